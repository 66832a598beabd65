import type { Kernel } from "@beep/kernel";
import type { Metrics } from "@beep/observability";
import type { HttpListener, HttpResponse } from "@beep/rpc";

function sendJson(res: HttpResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

/** `/healthz` (alive), `/readyz` (every module started and reachable) and `/metrics` (Prometheus). */
export function mountHealthRoutes(
  listener: HttpListener,
  kernel: Kernel,
  metrics: () => Metrics | undefined,
): void {
  listener.route("/healthz", (_req, res) => {
    if (kernel.isAlive()) sendJson(res, 200, { status: "alive" });
    else sendJson(res, 503, { status: "failed" });
  });
  listener.route("/readyz", async (_req, res) => {
    const failures = await kernel.readiness();
    if (failures.length === 0) sendJson(res, 200, { status: "ready" });
    else sendJson(res, 503, { status: "not ready", failures });
  });
  listener.route("/metrics", async (_req, res) => {
    const registry = metrics();
    if (!registry) return sendJson(res, 503, { status: "starting" });
    const { contentType, body } = await registry.render();
    res.writeHead(200, { "content-type": contentType });
    res.end(body);
  });
}
