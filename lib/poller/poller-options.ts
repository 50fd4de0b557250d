/** Options of a `Poller` (declared once: the addon reads the same names, lib/native/binding.ts). */
export interface PollerOptions {
  /** A name for logs, metrics and the Nest module's named pollers. */
  name?: string;
  /** Longest native serve of one producer per wake-up, in ms (default 100). A producer cut short is
   * served again on the next loop turn. */
  maxTimeMs?: number;
  /** Safety serve: producers not served for this long are served by a timer (default 1000 ms). The timer
   * never keeps the process alive. */
  pollTimeoutMs?: number;
  /** Budget of one loop turn for all producers of this poller, native serves and JS callbacks together
   * (default 10 ms). What is left runs on the next turn, so one busy turn cannot stall the event loop. */
  turnBudgetMs?: number;
  /** Most delivery reports handed to JS per call (default 1024). */
  batchSize?: number;
}
