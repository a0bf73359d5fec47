/**
 * The hub's own tools' namespace (`mesh__…`), which no node can take: node names cannot contain
 * `__`, and this one is refused at enrolment.
 */
export const MESH_NAMESPACE = 'mesh';
