import type { Db } from '@brainmesh/shared';
import type { Board, Role } from '../board/board.js';
import type { Knowledge } from '../knowledge/engine.js';

/** What every role's tools work on: the one knowledge engine and the one board. */
export interface Spectrum {
  knowledge: Knowledge;
  board: Board;
  /** The pack's own tables beyond those two (Closer's leads). */
  db: Db;
}

/** Who acts: the calling principal, as the role whose tool it called. */
export const actorOf = (principal: string, role: Role) => ({ principal, role });

export const ROLE_TITLES: Record<Role, string> = {
  strategist: 'Strategist',
  builder: 'Builder',
  closer: 'Closer',
  operator: 'Operator',
};
