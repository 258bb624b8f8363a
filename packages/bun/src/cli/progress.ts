// Progress lines on stderr ("mapping data.bin (1.0 GiB): 2.31 ms"), when enabled (a terminal, or --progress).

export const progress = {
  enabled: false,
  label: "",
  started: 0,
  start(label: string): void {
    if (!this.enabled) return;
    this.label = label;
    this.started = performance.now();
    process.stderr.write(`\r\x1b[K${label}...`);
  },
  done(): void {
    if (!this.enabled || this.label === "") return;
    process.stderr.write(`\r\x1b[K${this.label}: ${formatDuration(performance.now() - this.started)}\n`);
    this.label = "";
  },
  clear(): void {
    if (!this.enabled || this.label === "") return;
    process.stderr.write("\n");
    this.label = "";
  },
};

function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 2 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
