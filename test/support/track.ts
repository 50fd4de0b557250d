/** Clients a test opened, closed after each test whatever its outcome. */
export function track<T extends { close(options?: { timeoutMs?: number }): Promise<void> }>(timeoutMs = 2000): {
  add(client: T): T;
  closeAll(): Promise<void>;
} {
  const open: T[] = [];
  return {
    add(client) {
      open.push(client);
      return client;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((c) => c.close({ timeoutMs })));
    },
  };
}
