/** Raised when a backend cannot serve now; its message is safe to show the user. */
export class BackendUnavailable extends Error {}
