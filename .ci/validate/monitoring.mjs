// The monitoring files against compose.yaml and each other: Prometheus
// scrapes every chat process where it serves metrics, Grafana reads that
// Prometheus, and the dashboard asks only for documented metrics, in PromQL
// that parses (with promtool, when it is installed).
import { readFileSync, readdirSync, existsSync, mkdtempSync, writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { spawnSync } from "node:child_process";
import YAML from "yaml";

const parseYaml = (root, path, fail) => {
  const full = join(root, path);
  if (!existsSync(full)) {
    fail(`${path} is missing`);
    return {};
  }
  const doc = YAML.parseDocument(readFileSync(full, "utf8"));
  doc.errors.forEach((e) => fail(`${path}: ${e.message}`));
  return doc.toJS() ?? {};
};

/** The container path a service mounts `source` (relative to the repository) at. */
const mountedAt = (svc, source) => {
  for (const v of svc?.volumes ?? []) {
    const [src, target] = String(v).split(":");
    if (src.replace(/^\.\//, "").replace(/\/$/, "") === source) return target;
  }
  return undefined;
};

/** The port a service's CHAT_METRICS_BIND listens on, if it has one. */
const metricsPort = (svc) => {
  const bind = svc?.environment?.CHAT_METRICS_BIND;
  return bind === undefined ? undefined : String(bind).split(":").pop();
};

function checkPrometheus(root, services, fail) {
  const config = parseYaml(root, "deploy/prometheus.yml", fail);
  const jobs = config.scrape_configs ?? [];
  if (!jobs.length) fail("deploy/prometheus.yml: no scrape_configs");
  const scraped = new Set();
  const names = new Set();
  for (const job of jobs) {
    const where = `deploy/prometheus.yml job ${job.job_name}`;
    if (names.has(job.job_name)) fail(`${where}: job name used twice`);
    names.add(job.job_name);
    const targets = (job.static_configs ?? []).flatMap((c) => c.targets ?? []);
    if (!targets.length) fail(`${where}: no static targets`);
    for (const target of targets) {
      const [host, port] = String(target).split(":");
      const svc = services[host];
      if (!svc) {
        fail(`${where}: target ${target} is not a compose service`);
        continue;
      }
      scraped.add(host);
      const want = metricsPort(svc);
      if (want === undefined) fail(`${where}: ${host} has no CHAT_METRICS_BIND, so nothing serves ${target}`);
      else if (port !== want) fail(`${where}: ${target}, but ${host}'s CHAT_METRICS_BIND listens on port ${want}`);
      if (!(svc.command ?? []).includes(job.job_name)) {
        fail(`${where}: ${host} runs ${(svc.command ?? []).join(" ") || "no command"}, not ${job.job_name}`);
      }
    }
  }
  for (const [name, svc] of Object.entries(services)) {
    if (metricsPort(svc) !== undefined && !scraped.has(name)) fail(`deploy/prometheus.yml: ${name} serves metrics but is not scraped`);
  }
  if (mountedAt(services.prometheus, "deploy/prometheus.yml") !== "/etc/prometheus/prometheus.yml") {
    fail("compose.yaml: prometheus must mount ./deploy/prometheus.yml at /etc/prometheus/prometheus.yml");
  }
  return scraped;
}

function checkHealthchecks(services, fail) {
  for (const name of ["bot", "archiver"]) {
    const test = (services[name]?.healthcheck?.test ?? []).join(" ");
    const port = metricsPort(services[name]);
    if (!test.includes(`:${port}/readyz`)) fail(`compose.yaml: ${name} healthcheck must probe /readyz on its metrics port (${port})`);
  }
}

/** The provisioned Prometheus data source's uid, after checking it points at the compose service. */
function checkGrafanaProvisioning(root, services, fail) {
  const grafana = services.grafana;
  if (mountedAt(grafana, "deploy/grafana/provisioning") !== "/etc/grafana/provisioning") {
    fail("compose.yaml: grafana must mount ./deploy/grafana/provisioning at /etc/grafana/provisioning");
  }
  const sources = parseYaml(root, "deploy/grafana/provisioning/datasources/prometheus.yml", fail).datasources ?? [];
  const prom = sources.filter((s) => s.type === "prometheus");
  if (prom.length !== 1) fail(`grafana datasources: want exactly one prometheus data source, found ${prom.length}`);
  const uid = prom[0]?.uid;
  if (!uid) fail("grafana datasources: the prometheus data source needs a uid (the dashboard names it)");
  let host;
  try {
    host = new URL(prom[0]?.url).hostname;
  } catch {
    fail(`grafana datasources: url ${prom[0]?.url} does not parse`);
  }
  if (host && !services[host]) fail(`grafana datasources: url names ${host}, which is not a compose service`);

  const providers = parseYaml(root, "deploy/grafana/provisioning/dashboards/chat.yml", fail).providers ?? [];
  if (!providers.length) fail("grafana dashboards: no providers");
  const dashboardsAt = mountedAt(grafana, "deploy/grafana/dashboards");
  for (const p of providers) {
    if (p.type !== "file") fail(`grafana dashboards: provider ${p.name} is not a file provider`);
    if (p.options?.path !== dashboardsAt) {
      fail(`grafana dashboards: provider ${p.name} reads ${p.options?.path}, but compose mounts ./deploy/grafana/dashboards at ${dashboardsAt}`);
    }
  }
  return uid;
}

const flattenPanels = (panels) => (panels ?? []).flatMap((p) => [p, ...flattenPanels(p.panels)]);

/** The metric names an expression reads, histogram series folded to their family. */
const metricNames = (expr) =>
  (expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/\bchat_[a-z0-9_]+/g) ?? []).map((m) =>
    m.replace(/_(bucket|sum|count)$/, ""),
  );

/** Every panel query of every dashboard, after checking the panels' shape and data source. */
function checkDashboards(root, uid, fail) {
  const dir = join(root, "deploy/grafana/dashboards");
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".json")) : [];
  if (!files.length) fail("deploy/grafana/dashboards: no dashboard");
  const queries = [];
  for (const file of files) {
    const where = `deploy/grafana/dashboards/${file}`;
    let dash;
    try {
      dash = JSON.parse(readFileSync(join(dir, file), "utf8"));
    } catch (e) {
      fail(`${where}: ${e.message}`);
      continue;
    }
    if (!dash.uid || !dash.title || typeof dash.schemaVersion !== "number") fail(`${where}: needs uid, title and schemaVersion`);
    for (const v of dash.templating?.list ?? []) {
      if (v.datasource && v.datasource.uid !== uid) fail(`${where} variable ${v.name}: data source uid ${v.datasource.uid}, want ${uid}`);
    }
    const ids = new Set();
    for (const panel of flattenPanels(dash.panels)) {
      const at = `${where} panel ${panel.id} "${panel.title}"`;
      if (ids.has(panel.id)) fail(`${at}: id used twice`);
      ids.add(panel.id);
      if (!panel.gridPos) fail(`${at}: no gridPos`);
      if (panel.type === "row") continue;
      if (!["timeseries", "stat"].includes(panel.type)) fail(`${at}: type ${panel.type}, want timeseries or stat`);
      if (panel.datasource?.uid !== uid) fail(`${at}: data source uid ${panel.datasource?.uid}, want ${uid}`);
      if (!panel.targets?.length) fail(`${at}: no queries`);
      for (const t of panel.targets ?? []) {
        if (t.datasource && t.datasource.uid !== uid) fail(`${at} query ${t.refId}: data source uid ${t.datasource.uid}, want ${uid}`);
        if (!t.expr) fail(`${at} query ${t.refId}: no expr`);
        else queries.push({ at: `${at} query ${t.refId}`, expr: t.expr });
      }
    }
  }
  return queries;
}

/** Each metric a dashboard reads must be in docs/operations.md; says which are not. */
function checkDocumented(root, queries, fail) {
  const docs = readFileSync(join(root, "docs/operations.md"), "utf8");
  const used = [...new Set(queries.flatMap((q) => metricNames(q.expr)))].sort();
  const missing = used.filter((name) => !new RegExp(`(?<![A-Za-z0-9_])${name}(_bucket|_sum|_count)?(?![A-Za-z0-9_])`).test(docs));
  if (missing.length) {
    fail(`docs/operations.md does not document ${missing.length} of the ${used.length} metrics the dashboards read: ${missing.join(", ")}`);
  }
  return used.length;
}

/** Runs the dashboard queries through promtool as recording rules, with Grafana's variables filled in. */
function checkPromQL(queries, fail) {
  if (spawnSync("promtool", ["--version"]).error) {
    if (process.env.CI) fail("promtool is not installed (.ci/run installs it), so the dashboard's PromQL went unchecked");
    else console.log("… promtool not found: the dashboard's PromQL is not parsed (CI does)");
    return false;
  }
  const fill = (expr) => expr.replaceAll("$__rate_interval", "20s").replaceAll("$__interval", "5s").replaceAll("$instance", ".*");
  const rules = queries.map((q, i) => ({ record: `dashboard:query_${i}`, expr: fill(q.expr) }));
  const dir = mkdtempSync(join(tmpdir(), "chat-dashboard-"));
  try {
    const file = join(dir, "queries.yml");
    writeFileSync(file, YAML.stringify({ groups: [{ name: "dashboard", rules }] }));
    const run = spawnSync("promtool", ["check", "rules", file], { encoding: "utf8" });
    if (run.status !== 0) {
      // promtool names a bad rule by its record name; name the panel's query instead.
      const errors = `${run.stdout}\n${run.stderr}`
        .split("\n")
        .filter((line) => line.includes("dashboard:query_"))
        .map((line) => line.replace(/.*"dashboard:query_(\d+)"/, (_, i) => queries[i].at));
      (errors.length ? errors : [run.stderr.trim()]).forEach((e) => fail(`PromQL: ${e}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

/** Checks the monitoring files; returns a one-line summary for the success message. */
export function checkMonitoring(root, services, fail) {
  const scraped = checkPrometheus(root, services, fail);
  checkHealthchecks(services, fail);
  const uid = checkGrafanaProvisioning(root, services, fail);
  const queries = checkDashboards(root, uid, fail);
  const documented = checkDocumented(root, queries, fail);
  const parsed = checkPromQL(queries, fail);
  return `Prometheus scrapes ${scraped.size} services, Grafana dashboards: ${queries.length} queries over ${documented} documented metrics${parsed ? ", PromQL parsed by promtool" : ""}`;
}
