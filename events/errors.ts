/** A user error: bad arguments, a missing or malformed file. Exit code 1, one line naming what is at fault. */
export class UserError extends Error {
  override name = 'UserError';
}

export const EXIT = { ok: 0, user: 1, internal: 2 } as const;
