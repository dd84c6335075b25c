/** What a session reports about each tool call, for the audit trail and the metrics. */
export interface ToolCallReport {
  installationSlug: string;
  serverSlug: string;
  /** A server of the user's own: its slug is theirs, so metrics and the audit trail say `custom`. */
  custom?: boolean | undefined;
  tool: string;
  arguments: unknown;
  outcome: 'success' | 'error' | 'failure';
  durationMs: number;
  /** The gateway's request id, from the internal hop. */
  requestId?: string | undefined;
}

/** May return a promise: the call's answer waits for it (the audit event committed). */
export type ToolCallObserver = (report: ToolCallReport) => Promise<void> | void;
