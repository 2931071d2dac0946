/**
 * Interns strings (zones, app tags) to small integers so the hot path stores ints in typed arrays. At most
 * `max` names; once full, every new name maps to the overflow id whose name is `overflow`.
 */
export class Interner {
  readonly names: string[] = [];
  readonly #ids = new Map<string, number>();
  readonly #max: number;
  readonly #overflow: string;
  /** How many distinct names were folded into the overflow id. */
  overflowed = 0;

  constructor(max: number, overflow: string) {
    this.#max = max;
    this.#overflow = overflow;
  }

  /** The id of `name`, adding it when there is room. */
  id(name: string): number {
    const id = this.#ids.get(name);
    if (id !== undefined) return id;
    if (this.names.length < this.#max - 1 || name === this.#overflow) return this.#add(name);
    this.overflowed++;
    return this.#ids.get(this.#overflow) ?? this.#add(this.#overflow);
  }

  /** The id of `name` if known, without adding it. */
  peek(name: string): number | undefined {
    return this.#ids.get(name);
  }

  get size(): number {
    return this.names.length;
  }

  #add(name: string): number {
    const id = this.names.length;
    this.names.push(name);
    this.#ids.set(name, id);
    return id;
  }
}
