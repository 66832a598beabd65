import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.ts";

describe("createMetrics", () => {
  it("renders HTTP and RPC series with their labels after observations", async () => {
    const metrics = createMetrics({ service: "gateway" });
    metrics.observeHttp({ method: "get", route: "/channels/:id", status: 200, durationMs: 12 });
    metrics.observeHttp({ method: "GET", route: "/channels/:id", status: 200, durationMs: 30 });
    metrics.observeRpc({
      service: "beep.messages.v1.MessagesService",
      method: "SendMessage",
      code: "ok",
      durationMs: 4,
    });
    const { contentType, body } = await metrics.render();
    expect(contentType).toMatch(/^text\/plain/);
    expect(body).toContain(
      'http_requests_total{method="GET",route="/channels/:id",status="200",target="gateway"} 2',
    );
    expect(body).toContain(
      'http_request_duration_seconds_bucket{le="0.025",target="gateway",method="GET",route="/channels/:id"} 1',
    );
    expect(body).toContain(
      'http_request_duration_seconds_count{target="gateway",method="GET",route="/channels/:id"} 2',
    );
    expect(body).toContain(
      'rpc_requests_total{service="beep.messages.v1.MessagesService",method="SendMessage",code="ok",target="gateway"} 1',
    );
    expect(body).toContain(
      'rpc_request_duration_seconds_count{target="gateway",service="beep.messages.v1.MessagesService",method="SendMessage"} 1',
    );
    expect(body).toContain("process_cpu_user_seconds_total");
  });

  it("collects gauges at scrape time, plain and labelled, sync and async", async () => {
    const metrics = createMetrics({ service: "all", defaultMetrics: false });
    let lag = 3;
    metrics.registerGauge("bus_outbox_lag", "Outbox events not yet published.", [], () => lag);
    let pools = [
      { labels: { pool: "messages", state: "idle" }, value: 4 },
      { labels: { pool: "users", state: "idle" }, value: 1 },
    ];
    metrics.registerGauge(
      "db_pool_connections",
      "Pool connections by state.",
      ["pool", "state"],
      async () => pools,
    );

    let body = (await metrics.render()).body;
    expect(body).toContain('bus_outbox_lag{target="all"} 3');
    expect(body).toContain('db_pool_connections{pool="messages",state="idle",target="all"} 4');
    expect(body).toContain('db_pool_connections{pool="users",state="idle",target="all"} 1');
    expect(body).not.toContain("process_cpu_user_seconds_total");

    lag = 0;
    pools = [{ labels: { pool: "messages", state: "idle" }, value: 2 }];
    body = (await metrics.render()).body;
    expect(body).toContain('bus_outbox_lag{target="all"} 0');
    expect(body).toContain('db_pool_connections{pool="messages",state="idle",target="all"} 2');
    expect(body).not.toContain('pool="users"');
  });

  it("keeps a scrape alive when a collector throws and counts the failure", async () => {
    const metrics = createMetrics({ service: "all", defaultMetrics: false });
    metrics.registerGauge("broken_gauge", "Always throws.", [], () => {
      throw new Error("pool closed");
    });
    metrics.observeHttp({ method: "GET", route: "/healthz", status: 200, durationMs: 1 });
    const { body } = await metrics.render();
    expect(body).toContain('metrics_collect_errors_total{metric="broken_gauge",target="all"} 1');
    // prom-client prints "Nan"; Prometheus parses NaN case-insensitively (Go ParseFloat).
    expect(body).toMatch(/^broken_gauge\{target="all"\} nan$/im);
    expect(body).toContain('http_requests_total{method="GET",route="/healthz",status="200",target="all"} 1');
  });

  it("keeps two registries in one process apart", async () => {
    const a = createMetrics({ service: "a" });
    const b = createMetrics({ service: "b" });
    a.observeHttp({ method: "POST", route: "/x", status: 201, durationMs: 1 });
    a.registerGauge("same_name", "Registered in both.", [], () => 1);
    b.registerGauge("same_name", "Registered in both.", [], () => 2);
    const [bodyA, bodyB] = await Promise.all([a.render(), b.render()]).then((r) => r.map((x) => x.body));
    expect(bodyA).toContain('http_requests_total{method="POST",route="/x",status="201",target="a"} 1');
    expect(bodyB).not.toContain('route="/x"');
    expect(bodyA).toContain('same_name{target="a"} 1');
    expect(bodyB).toContain('same_name{target="b"} 2');
  });
});
