import { BrainmeshError, type Db, type Queryable } from '@brainmesh/shared';

/**
 * The task board the four roles coordinate through. Tasks belong to a role; an agent of that
 * role claims the next open one under a lease it renews while it works; a lease left to run out
 * returns the task to the board. Claims use `FOR UPDATE SKIP LOCKED`, so two agents claiming at
 * once never get the same task and never wait on each other. A task with unfinished dependencies
 * is blocked, and opens by itself when the last of them is done. Every change is an event (the
 * task's history); comments are events too, the task's shared channel.
 */

export const ROLES = ['strategist', 'builder', 'closer', 'operator'] as const;
export type Role = (typeof ROLES)[number];
export const STATUSES = ['open', 'claimed', 'in_progress', 'blocked', 'done', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];

export interface Actor {
  principal: string;
  role: Role | 'board';
}

export interface Task {
  id: number;
  title: string;
  brief: string;
  role: Role;
  status: Status;
  priority: number;
  dueAt: string | null;
  claimedBy: string | null;
  leaseUntil: string | null;
  knowledge: number[];
  dependsOn: number[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface TaskEvent {
  at: string;
  principal: string;
  role: string;
  kind: string;
  note: string;
  detail: Record<string, unknown>;
}

export interface NewTask {
  title: string;
  brief?: string | undefined;
  role: Role;
  priority?: number | undefined;
  dueAt?: string | undefined;
  dependsOn?: readonly number[] | undefined;
  knowledge?: readonly number[] | undefined;
}

/** What the board tells whoever listens: a task arrived in a role's inbox (created, handed, unblocked, returned). */
export type BoardListener = (event: { role: Role; taskId: number; kind: string; note: string }) => void;

interface TaskRow {
  id: number;
  title: string;
  brief: string;
  role: Role;
  status: Status;
  priority: number;
  due_at: Date | null;
  claimed_by: string | null;
  lease_until: Date | null;
  knowledge: number[];
  depends_on: number[] | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

const TASK_COLUMNS = `t.id, t.title, t.brief, t.role, t.status, t.priority, t.due_at, t.claimed_by, t.lease_until,
  t.knowledge, t.created_by, t.created_at, t.updated_at,
  (SELECT array_agg(depends_on ORDER BY depends_on) FROM task_dependencies WHERE task_id = t.id) AS depends_on`;

export class Board {
  private readonly listeners = new Set<BoardListener>();

  constructor(
    private readonly db: Db,
    private readonly options: { leaseSeconds: number },
  ) {}

  get leaseSeconds(): number {
    return this.options.leaseSeconds;
  }

  /** Tells `listener` of every task that lands in a role's inbox; returns the way to stop. */
  listen(listener: BoardListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async create(input: NewTask, actor: Actor): Promise<Task> {
    const dependsOn = [...new Set(input.dependsOn ?? [])];
    const id = await this.db.transaction(async (tx) => {
      if (dependsOn.length > 0) {
        const found = await tx.query<{ id: number; status: Status }>(
          'SELECT id, status FROM tasks WHERE id = ANY($1)',
          [dependsOn],
        );
        const missing = dependsOn.filter((d) => !found.rows.some((r) => r.id === d));
        if (missing.length > 0) throw new BrainmeshError('NOT_FOUND', `no task ${missing.join(', ')} to depend on`);
      }
      const waiting = dependsOn.length > 0 ? await unfinished(tx, dependsOn) : 0;
      const { rows } = await tx.query<{ id: number }>(
        `INSERT INTO tasks (title, brief, role, status, priority, due_at, knowledge, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [
          input.title,
          input.brief ?? '',
          input.role,
          waiting > 0 ? 'blocked' : 'open',
          input.priority ?? 3,
          input.dueAt ?? null,
          input.knowledge ?? [],
          actor.principal,
        ],
      );
      const taskId = rows[0]!.id;
      for (const d of dependsOn) {
        await tx.query('INSERT INTO task_dependencies (task_id, depends_on) VALUES ($1, $2)', [taskId, d]);
      }
      await event(tx, taskId, actor, 'created', '', { role: input.role, dependsOn, blocked: waiting > 0 });
      return taskId;
    });
    const task = await this.get(id);
    if (task.status === 'open') this.tell(task.role, id, 'created', task.title);
    return task;
  }

  async get(id: number): Promise<Task> {
    const { rows } = await this.db.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = $1`, [id]);
    if (rows[0] === undefined) throw new BrainmeshError('NOT_FOUND', `no task ${id}`);
    return toTask(rows[0]);
  }

  async history(id: number): Promise<TaskEvent[]> {
    await this.get(id);
    const { rows } = await this.db.query<{
      at: Date;
      principal: string;
      role: string;
      kind: string;
      note: string;
      detail: Record<string, unknown>;
    }>('SELECT at, principal, role, kind, note, detail FROM task_events WHERE task_id = $1 ORDER BY id', [id]);
    return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
  }

  async list(
    filter: {
      role?: Role | undefined;
      status?: Status | undefined;
      claimedBy?: string | undefined;
      limit?: number;
    } = {},
  ): Promise<Task[]> {
    const { rows } = await this.db.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks t
        WHERE ($1::text IS NULL OR t.role = $1) AND ($2::text IS NULL OR t.status = $2)
          AND ($3::text IS NULL OR t.claimed_by = $3)
        ORDER BY CASE t.status WHEN 'done' THEN 1 WHEN 'cancelled' THEN 1 ELSE 0 END, t.priority, t.due_at NULLS LAST, t.id
        LIMIT $4`,
      [filter.role ?? null, filter.status ?? null, filter.claimedBy ?? null, filter.limit ?? 50],
    );
    return rows.map(toTask);
  }

  /**
   * Claims the role's most urgent open task for `actor`, under a lease; undefined when none is
   * open. Leases that ran out are returned to the board first, so a task an agent abandoned is
   * claimable again at once.
   */
  async claimNext(role: Role, actor: Actor): Promise<Task | undefined> {
    await this.expireLeases();
    const claimed = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>(
        `WITH next AS (
           SELECT id FROM tasks WHERE role = $1 AND status = 'open'
            ORDER BY priority, due_at NULLS LAST, id
            LIMIT 1 FOR UPDATE SKIP LOCKED
         )
         UPDATE tasks t SET status = 'claimed', claimed_by = $2,
                lease_until = now() + make_interval(secs => $3), updated_at = now()
           FROM next WHERE t.id = next.id
         RETURNING t.id`,
        [role, actor.principal, this.options.leaseSeconds],
      );
      const id = rows[0]?.id;
      if (id !== undefined) await event(tx, id, actor, 'claimed', '', { leaseSeconds: this.options.leaseSeconds });
      return id;
    });
    return claimed === undefined ? undefined : this.get(claimed);
  }

  /** Extends the lease of a task `actor` holds. */
  async renew(id: number, actor: Actor): Promise<Task> {
    const { rows } = await this.db.query<{ id: number }>(
      `UPDATE tasks SET lease_until = now() + make_interval(secs => $3), updated_at = now()
        WHERE id = $1 AND claimed_by = $2 AND lease_until > now()
        RETURNING id`,
      [id, actor.principal, this.options.leaseSeconds],
    );
    if (rows.length === 0) await this.refuseNotHolder(id, actor, 'renew its lease');
    return this.get(id);
  }

  /**
   * Moves a task on: `in_progress` and `blocked` (stuck, still held) by its holder; `done` and `cancelled` by its
   * holder, or (for an unclaimed task) by anyone of its role. Done unblocks what waited for it.
   */
  async setStatus(
    id: number,
    status: 'in_progress' | 'blocked' | 'done' | 'cancelled',
    note: string,
    actor: Actor,
  ): Promise<Task> {
    const opened = await this.db.transaction(async (tx) => {
      const task = (await tx.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = $1 FOR UPDATE`, [id]))
        .rows[0];
      if (task === undefined) throw new BrainmeshError('NOT_FOUND', `no task ${id}`);
      if (task.status === 'done' || task.status === 'cancelled')
        throw new BrainmeshError('CONFLICT', `task ${id} is ${task.status} already`);
      const holds = task.claimed_by === actor.principal && task.lease_until !== null && task.lease_until > new Date();
      const held = task.claimed_by !== null && task.lease_until !== null && task.lease_until > new Date();
      if (held && !holds)
        throw new BrainmeshError(
          'CONFLICT',
          `task ${id} is held by ${task.claimed_by} until ${task.lease_until!.toISOString()}`,
        );
      if (!holds && (status === 'in_progress' || status === 'blocked'))
        throw new BrainmeshError(
          'CONFLICT',
          `task ${id} must be claimed first (claim_next_task) to be ${status.replace('_', ' ')}`,
        );
      if (!holds && actor.role !== task.role && actor.role !== 'board')
        throw new BrainmeshError(
          'FORBIDDEN',
          `task ${id} belongs to the ${task.role}; only its holder or that role may close it`,
        );
      const keepLease = status === 'in_progress' || status === 'blocked';
      await tx.query(
        `UPDATE tasks SET status = $2,
                claimed_by = CASE WHEN $3 THEN claimed_by END,
                lease_until = CASE WHEN $3 THEN now() + make_interval(secs => $4) END,
                updated_at = now()
          WHERE id = $1`,
        [id, status, keepLease, this.options.leaseSeconds],
      );
      await event(tx, id, actor, status, note, {});
      return status === 'done' ? unblock(tx, id) : [];
    });
    for (const t of opened) this.tell(t.role, t.id, 'unblocked', t.title);
    return this.get(id);
  }

  /**
   * Hands a task to another role, with what is done and what is needed; the task is open in the
   * other role's inbox at once. By its holder, or by anyone of its role while it is unclaimed.
   */
  async handOff(id: number, to: Role, handoff: { done: string; needed: string }, actor: Actor): Promise<Task> {
    const title = await this.db.transaction(async (tx) => {
      const task = (await tx.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks t WHERE t.id = $1 FOR UPDATE`, [id]))
        .rows[0];
      if (task === undefined) throw new BrainmeshError('NOT_FOUND', `no task ${id}`);
      if (task.status === 'done' || task.status === 'cancelled')
        throw new BrainmeshError('CONFLICT', `task ${id} is ${task.status}; create a new one instead`);
      const holds = task.claimed_by === actor.principal && task.lease_until !== null && task.lease_until > new Date();
      const held = task.claimed_by !== null && task.lease_until !== null && task.lease_until > new Date();
      if (held && !holds) throw new BrainmeshError('CONFLICT', `task ${id} is held by ${task.claimed_by}`);
      if (!holds && actor.role !== task.role)
        throw new BrainmeshError(
          'FORBIDDEN',
          `task ${id} belongs to the ${task.role}; only its holder or that role may hand it on`,
        );
      const waiting = await unfinishedOf(tx, id);
      await tx.query(
        `UPDATE tasks SET role = $2, status = $3, claimed_by = NULL, lease_until = NULL, updated_at = now() WHERE id = $1`,
        [id, to, waiting > 0 ? 'blocked' : 'open'],
      );
      await event(tx, id, actor, 'handoff', `done: ${handoff.done}\nneeded: ${handoff.needed}`, {
        from: task.role,
        to,
        done: handoff.done,
        needed: handoff.needed,
      });
      return waiting > 0 ? undefined : task.title;
    });
    if (title !== undefined) this.tell(to, id, 'handoff', title);
    return this.get(id);
  }

  async comment(id: number, text: string, actor: Actor): Promise<TaskEvent[]> {
    await this.get(id);
    await this.db.transaction((tx) => event(tx, id, actor, 'comment', text, {}));
    return (await this.history(id)).filter((e) => e.kind === 'comment');
  }

  /** Links documents to a task (once each). */
  async link(id: number, documents: readonly number[], actor: Actor): Promise<Task> {
    await this.get(id);
    await this.db.transaction(async (tx) => {
      await tx.query(
        `UPDATE tasks SET knowledge = ARRAY(SELECT DISTINCT unnest(knowledge || $2::bigint[]) ORDER BY 1), updated_at = now()
          WHERE id = $1`,
        [id, documents],
      );
      await event(tx, id, actor, 'linked', '', { documents });
    });
    return this.get(id);
  }

  /** Adds an event of a role's own kind (a checklist, a QA run) to a task's history. */
  async record(id: number, kind: string, note: string, detail: Record<string, unknown>, actor: Actor): Promise<void> {
    await this.get(id);
    await this.db.transaction((tx) => event(tx, id, actor, kind, note, detail));
  }

  /** The newest event of a kind on a task, if any. */
  async latest(id: number, kind: string): Promise<TaskEvent | undefined> {
    return (await this.history(id)).filter((e) => e.kind === kind).at(-1);
  }

  /** Returns tasks whose lease ran out to the board; the ids returned. */
  async expireLeases(): Promise<number[]> {
    const expired = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number; role: Role; title: string; claimed_by: string }>(
        `WITH gone AS (
           SELECT id, claimed_by FROM tasks
            WHERE claimed_by IS NOT NULL AND lease_until <= now()
            FOR UPDATE SKIP LOCKED
         )
         UPDATE tasks t SET status = 'open', claimed_by = NULL, lease_until = NULL, updated_at = now()
           FROM gone WHERE t.id = gone.id
         RETURNING t.id, t.role, t.title, gone.claimed_by`,
      );
      for (const r of rows)
        await event(
          tx,
          r.id,
          { principal: 'board', role: 'board' },
          'lease_expired',
          `${r.claimed_by} let the lease run out`,
          {
            holder: r.claimed_by,
          },
        );
      return rows;
    });
    for (const t of expired) this.tell(t.role, t.id, 'returned', t.title);
    return expired.map((t) => t.id);
  }

  /** What is blocked, overdue and held by whom, and how many tasks each role has in each state. */
  async summary(): Promise<{
    counts: Record<Role, Record<Status, number>>;
    blocked: { id: number; title: string; role: Role; waitingFor: number[] }[];
    overdue: { id: number; title: string; role: Role; dueAt: string; status: Status }[];
    held: { principal: string; tasks: { id: number; title: string; leaseUntil: string }[] }[];
  }> {
    const counts = Object.fromEntries(
      ROLES.map((role) => [role, Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>]),
    ) as Record<Role, Record<Status, number>>;
    const grouped = await this.db.query<{ role: Role; status: Status; n: number }>(
      'SELECT role, status, count(*)::int AS n FROM tasks GROUP BY role, status',
    );
    for (const g of grouped.rows) counts[g.role][g.status] = g.n;
    const blocked = await this.db.query<{ id: number; title: string; role: Role; waiting: number[] }>(
      `SELECT t.id, t.title, t.role, array_agg(d.depends_on ORDER BY d.depends_on) AS waiting
         FROM tasks t JOIN task_dependencies d ON d.task_id = t.id JOIN tasks o ON o.id = d.depends_on
        WHERE t.status = 'blocked' AND o.status <> 'done'
        GROUP BY t.id ORDER BY t.priority, t.id`,
    );
    const overdue = await this.db.query<{ id: number; title: string; role: Role; due_at: Date; status: Status }>(
      `SELECT id, title, role, due_at, status FROM tasks
        WHERE due_at < now() AND status NOT IN ('done', 'cancelled') ORDER BY due_at, id`,
    );
    const held = await this.db.query<{ claimed_by: string; id: number; title: string; lease_until: Date }>(
      `SELECT claimed_by, id, title, lease_until FROM tasks
        WHERE claimed_by IS NOT NULL AND lease_until > now() ORDER BY claimed_by, id`,
    );
    const holders = new Map<string, { id: number; title: string; leaseUntil: string }[]>();
    for (const h of held.rows) {
      const list = holders.get(h.claimed_by) ?? [];
      list.push({ id: h.id, title: h.title, leaseUntil: h.lease_until.toISOString() });
      holders.set(h.claimed_by, list);
    }
    return {
      counts,
      blocked: blocked.rows.map((b) => ({ id: b.id, title: b.title, role: b.role, waitingFor: b.waiting })),
      overdue: overdue.rows.map((o) => ({
        id: o.id,
        title: o.title,
        role: o.role,
        dueAt: o.due_at.toISOString(),
        status: o.status,
      })),
      held: [...holders].map(([principal, tasks]) => ({ principal, tasks })),
    };
  }

  private async refuseNotHolder(id: number, actor: Actor, what: string): Promise<never> {
    const task = await this.get(id);
    if (task.claimedBy !== actor.principal)
      throw new BrainmeshError(
        'CONFLICT',
        `task ${id} is not held by ${actor.principal}${task.claimedBy === null ? '' : ` (held by ${task.claimedBy})`}; cannot ${what}`,
      );
    throw new BrainmeshError('CONFLICT', `the lease on task ${id} ran out; claim it again to ${what}`);
  }

  private tell(role: Role, taskId: number, kind: string, note: string): void {
    for (const listener of this.listeners) listener({ role, taskId, kind, note });
  }
}

async function event(
  tx: Queryable,
  taskId: number,
  actor: Actor,
  kind: string,
  note: string,
  detail: Record<string, unknown>,
): Promise<void> {
  await tx.query(
    'INSERT INTO task_events (task_id, principal, role, kind, note, detail) VALUES ($1, $2, $3, $4, $5, $6)',
    [taskId, actor.principal, actor.role, kind, note, JSON.stringify(detail)],
  );
}

async function unfinished(tx: Queryable, ids: readonly number[]): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM tasks WHERE id = ANY($1) AND status <> 'done'",
    [ids],
  );
  return rows[0]!.n;
}

async function unfinishedOf(tx: Queryable, id: number): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM task_dependencies d JOIN tasks o ON o.id = d.depends_on
      WHERE d.task_id = $1 AND o.status <> 'done'`,
    [id],
  );
  return rows[0]!.n;
}

/** Opens the blocked tasks that waited only for `doneId`; returns them. */
async function unblock(tx: Queryable, doneId: number): Promise<{ id: number; role: Role; title: string }[]> {
  const { rows } = await tx.query<{ id: number; role: Role; title: string }>(
    `UPDATE tasks t SET status = 'open', updated_at = now()
      WHERE t.status = 'blocked' AND t.claimed_by IS NULL
        AND EXISTS (SELECT 1 FROM task_dependencies d WHERE d.task_id = t.id AND d.depends_on = $1)
        AND NOT EXISTS (
          SELECT 1 FROM task_dependencies d JOIN tasks o ON o.id = d.depends_on
           WHERE d.task_id = t.id AND o.status <> 'done')
      RETURNING t.id, t.role, t.title`,
    [doneId],
  );
  for (const r of rows)
    await event(tx, r.id, { principal: 'board', role: 'board' }, 'unblocked', `task ${doneId} is done`, { by: doneId });
  return rows;
}

function toTask(r: TaskRow): Task {
  return {
    id: r.id,
    title: r.title,
    brief: r.brief,
    role: r.role,
    status: r.status,
    priority: r.priority,
    dueAt: r.due_at?.toISOString() ?? null,
    claimedBy: r.claimed_by,
    leaseUntil: r.lease_until?.toISOString() ?? null,
    knowledge: r.knowledge,
    dependsOn: r.depends_on ?? [],
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}
