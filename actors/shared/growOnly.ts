/**
 * Persistent collections that grow by one entry per event: a step's fresh rollout groups arrive as up to
 * B RolloutCompleted events, and copying an array or a map per event made the folds O(B²) per step.
 *
 * Each value is a handle (a backing store plus the number of entries it sees). Adding to the newest
 * handle of a store appends in place and returns a new handle one longer; the old handle still sees only
 * its own entries, so folds stay pure (an old state never changes). Adding to an older handle — a fold
 * that branches from a past state — copies the visible prefix first.
 */

/** An append-only list. */
export class GrowOnlyList<T> {
  private constructor(
    private readonly store: T[],
    /** entries visible to this handle */
    readonly size: number,
  ) {}

  static empty<T>(): GrowOnlyList<T> {
    return new GrowOnlyList<T>([], 0);
  }

  static from<T>(items: readonly T[]): GrowOnlyList<T> {
    return new GrowOnlyList(items.slice(), items.length);
  }

  /** This list plus `x` at the end. */
  push(x: T): GrowOnlyList<T> {
    const store = this.store.length === this.size ? this.store : this.store.slice(0, this.size);
    store.push(x);
    return new GrowOnlyList(store, this.size + 1);
  }

  /** The entries, oldest first (a copy). */
  toArray(): T[] {
    return this.store.slice(0, this.size);
  }
}

/** A map whose keys are added one at a time, iterated in insertion order (like Map). */
export class GrowOnlyMap<K, V> {
  private constructor(
    private readonly store: { index: Map<K, number>; keys: K[]; values: V[] },
    /** entries visible to this handle */
    readonly size: number,
  ) {}

  static empty<K, V>(): GrowOnlyMap<K, V> {
    return new GrowOnlyMap<K, V>({ index: new Map(), keys: [], values: [] }, 0);
  }

  static from<K, V>(entries: Iterable<readonly [K, V]>): GrowOnlyMap<K, V> {
    let m = GrowOnlyMap.empty<K, V>();
    for (const [k, v] of entries) m = m.set(k, v);
    return m;
  }

  private at(key: K): number {
    const i = this.store.index.get(key);
    return i !== undefined && i < this.size ? i : -1;
  }

  has(key: K): boolean {
    return this.at(key) >= 0;
  }

  get(key: K): V | undefined {
    const i = this.at(key);
    return i >= 0 ? this.store.values[i] : undefined;
  }

  /** This map with `key` set to `value` (a new key goes last; an existing key keeps its place, as in Map). */
  set(key: K, value: V): GrowOnlyMap<K, V> {
    const s = this.store;
    const i = this.at(key);
    if (i < 0 && s.keys.length === this.size) {
      s.index.set(key, this.size);
      s.keys.push(key);
      s.values.push(value);
      return new GrowOnlyMap(s, this.size + 1);
    }
    // an older handle, or a replaced value: copy what this handle sees
    const keys = s.keys.slice(0, this.size);
    const values = s.values.slice(0, this.size);
    const index = new Map<K, number>();
    keys.forEach((k, j) => index.set(k, j));
    if (i >= 0) values[i] = value;
    else {
      index.set(key, keys.length);
      keys.push(key);
      values.push(value);
    }
    return new GrowOnlyMap({ index, keys, values }, keys.length);
  }

  *entries(): IterableIterator<[K, V]> {
    for (let i = 0; i < this.size; i++) yield [this.store.keys[i], this.store.values[i]];
  }
}
