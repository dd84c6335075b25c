/** An installation's tool filters and overrides, as the user set them (`PATCH /installations/:slug`). */
export interface ToolFilters {
  allow?: string[];
  deny?: string[];
  overrides?: Record<string, { title?: string; description?: string }>;
}

/**
 * Which of a backend's tools the user sees, and how they are described: a tool outside `allow` or in
 * `deny` is absent from lists and refused as unknown when called; `overrides` replace a tool's title
 * and description (clients cap tool counts, and generated descriptions are not always what a model needs).
 */
export class ToolPolicy {
  private readonly allow: Set<string> | undefined;
  private readonly deny: Set<string>;
  private readonly overrides: NonNullable<ToolFilters['overrides']>;

  constructor(filters: ToolFilters | undefined) {
    this.allow = filters?.allow ? new Set(filters.allow) : undefined;
    this.deny = new Set(filters?.deny ?? []);
    this.overrides = filters?.overrides ?? {};
  }

  get filtersAnything(): boolean {
    return this.allow !== undefined || this.deny.size > 0 || Object.keys(this.overrides).length > 0;
  }

  allows(name: string): boolean {
    return (this.allow === undefined || this.allow.has(name)) && !this.deny.has(name);
  }

  /** A `tools/list` page as the user sees it. */
  apply<T extends Record<string, unknown>>(tools: T[]): T[] {
    if (!this.filtersAnything) return tools;
    return tools
      .filter((t) => this.allows(String(t.name)))
      .map((t) => {
        const override = Object.hasOwn(this.overrides, String(t.name))
          ? this.overrides[String(t.name)]
          : undefined;
        return override ? { ...t, ...override } : t;
      });
  }
}
