/** Fixed-capacity ring buffer: pushing past capacity drops the oldest items. */
export class Ring<T> {
  private buf: (T | undefined)[];
  private start = 0;
  private len = 0;
  /** total items ever dropped from the front */
  dropped = 0;

  constructor(readonly capacity: number) {
    if (capacity < 1) throw new RangeError('ring capacity must be >= 1');
    this.buf = new Array(capacity);
  }

  get length(): number {
    return this.len;
  }

  push(item: T): void {
    if (this.len < this.capacity) {
      this.buf[(this.start + this.len) % this.capacity] = item;
      this.len++;
    } else {
      this.buf[this.start] = item;
      this.start = (this.start + 1) % this.capacity;
      this.dropped++;
    }
  }

  /** item i counted from the oldest (0) */
  at(i: number): T | undefined {
    if (i < 0 || i >= this.len) return undefined;
    return this.buf[(this.start + i) % this.capacity];
  }

  /** replace item i (used to keep entries ordered by time) */
  set(i: number, item: T): void {
    if (i < 0 || i >= this.len) throw new RangeError('ring index out of range');
    this.buf[(this.start + i) % this.capacity] = item;
  }

  clear(): void {
    this.buf = new Array(this.capacity);
    this.start = 0;
    this.len = 0;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.len; i++) out.push(this.at(i)!);
    return out;
  }
}
