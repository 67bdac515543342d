/** A log that cannot be opened, read or written as asked: damaged, missing, read-only, a failed write. */
export class StoreError extends Error {
  override name = 'StoreError';
}
