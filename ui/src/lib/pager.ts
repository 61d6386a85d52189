// Paged access to a long list for a virtualised view: rows are fetched a page
// at a time from SQLite, only around what is on screen, and refetched after a
// change without dropping what is shown meanwhile.

/** One page as the backend returns it. */
export interface PageOf<T> {
  items: T[];
  total: number;
  offset: number;
}

export type FetchPage<T> = (offset: number, limit: number) => Promise<PageOf<T>>;

export class Pager<T> {
  readonly pageSize: number;
  total = 0;
  private pages = new Map<number, T[]>();
  /** What was shown before the refresh in progress, until its pages arrive. */
  private stale = new Map<number, T[]>();
  private loading = new Map<number, Promise<void>>();
  private generation = 0;

  constructor(
    private fetchPage: FetchPage<T>,
    private onChange: () => void,
    pageSize = 100,
  ) {
    this.pageSize = pageSize;
  }

  /**
   * The row at `index` if its page is loaded; otherwise starts loading it and,
   * during a refresh, answers with the row shown before it (so a click on a
   * row while the list refreshes still selects it).
   */
  get(index: number): T | undefined {
    const page = Math.floor(index / this.pageSize);
    const rows = this.pages.get(page);
    if (!rows) {
      void this.load(page);
      return this.stale.get(page)?.[index - page * this.pageSize];
    }
    return rows[index - page * this.pageSize];
  }

  /** Loads the pages covering rows `start..end` (exclusive). */
  async ensure(start: number, end: number): Promise<void> {
    const first = Math.floor(Math.max(0, start) / this.pageSize);
    const last = Math.floor(Math.max(0, end - 1) / this.pageSize);
    const waits: Promise<void>[] = [];
    for (let page = first; page <= last; page++) {
      if (!this.pages.has(page)) waits.push(this.load(page));
    }
    await Promise.all(waits);
  }

  /** Forgets everything but keeps showing it until the first page arrives again. */
  async refresh(visibleStart = 0, visibleEnd = this.pageSize): Promise<void> {
    const generation = ++this.generation;
    const old = this.pages;
    this.stale = old;
    this.pages = new Map();
    this.loading.clear();
    try {
      await this.ensure(visibleStart, Math.max(visibleEnd, 1));
    } catch (e) {
      this.pages = old;
      throw e;
    } finally {
      if (generation === this.generation) this.stale = new Map();
    }
  }

  /** Index of the first loaded row for which `match` holds, or -1. */
  indexWhere(match: (row: T) => boolean): number {
    for (const [page, rows] of this.pages) {
      const at = rows.findIndex(match);
      if (at >= 0) return page * this.pageSize + at;
    }
    return -1;
  }

  private load(page: number): Promise<void> {
    const pending = this.loading.get(page);
    if (pending) return pending;
    const generation = this.generation;
    const promise = this.fetchPage(page * this.pageSize, this.pageSize)
      .then((result) => {
        if (generation !== this.generation) return;
        this.total = result.total;
        this.pages.set(page, result.items);
        this.onChange();
      })
      .finally(() => {
        if (generation === this.generation) this.loading.delete(page);
      });
    this.loading.set(page, promise);
    return promise;
  }
}
