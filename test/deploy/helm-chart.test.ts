/**
 * The Helm chart of deploy/helm/infera, rendered with the README's own commands and with
 * custom values: every manifest (and the KServe runtime) must pass the Kubernetes/CRD schemas of
 * helpers/k8s-schemas.ts, the probes must use Triton's health endpoints, the grace period must
 * outlast --exit-timeout-secs, and the autoscalers must read the metric infera exports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { byKind, CHART, flagValue, inferaContainer, parseYamlFile, readmeHelmCommands, render, renderWith, ROOT, type Manifest } from './helpers/chart.js';
import { validateManifest } from './helpers/k8s-schemas.js';

const CLI = path.join(ROOT, 'bin/infera.js');
const serveHelp = (): string => execFileSync(process.execPath, [CLI, 'serve', '--help'], { encoding: 'utf8' });

function expectValid(docs: Manifest[]): void {
  expect(docs.length).toBeGreaterThan(0);
  expect(docs.flatMap((d) => validateManifest(d))).toEqual([]);
}

describe('deploy/README.md helm commands', () => {
  const commands = readmeHelmCommands();

  test('the README lists commands, and every examples/ values file is used by one', () => {
    expect(commands.length).toBeGreaterThanOrEqual(4);
    const used = new Set(commands.flatMap((c) => c.valueFiles.map((f) => path.basename(f))));
    for (const f of readdirSync(path.join(CHART, 'examples'))) expect(used, f).toContain(f);
  });

  test.each(commands.map((c) => [c.line, c] as const))('%s renders manifests that pass the schemas', (_line, cmd) => {
    const docs = render(cmd);
    expectValid(docs);
    for (const d of docs) expect(d.metadata.namespace).toBe(cmd.namespace);
    const dep = byKind(docs, 'Deployment')!;
    const svc = byKind(docs, 'Service')!;
    expect(svc.spec.selector).toEqual(dep.spec.selector.matchLabels);
    expect(dep.spec.template.metadata.labels).toMatchObject(dep.spec.selector.matchLabels);
  });

  test('every deploy/ path the README names exists, including those its kubectl and helm commands read', () => {
    const readme = readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8');
    const paths = [...readme.matchAll(/(?<![\w/])deploy\/[\w./-]*\w/g)].map((m) => m[0]);
    expect(paths).toContain('deploy/kserve/cluster-serving-runtime.yaml');
    expect(paths).toContain('deploy/prometheus-adapter/values.yaml');
    expect(paths).toContain('deploy/grafana/infera-dashboard.json');
    for (const p of paths) expect(existsSync(path.join(ROOT, p)), p).toBe(true);
  });

  test('the CLI renderer prints what the library renders', () => {
    const cmd = commands[1]!;
    const argv = [cmd.release, path.relative(ROOT, cmd.chartDir), '--namespace', cmd.namespace, ...cmd.valueFiles.flatMap((f) => ['-f', path.relative(ROOT, f)])];
    const out = execFileSync(process.execPath, [path.join(ROOT, 'deploy/helm/render.mjs'), ...argv], { cwd: ROOT, encoding: 'utf8' });
    expect(out).toContain('kind: HorizontalPodAutoscaler');
    expect(out).toContain('# Source: infera/templates/deployment.yaml');
  });
});

describe('chart defaults', () => {
  const docs = renderWith();

  test('render only a Deployment and a Service', () => {
    expectValid(docs);
    expect(docs.map((d) => d.kind).sort()).toEqual(['Deployment', 'Service']);
    expect(byKind(docs, 'Deployment')!.spec.replicas).toBe(1);
  });

  test('probes use the Triton health endpoints on the HTTP port', () => {
    const c = inferaContainer(docs);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    const http = c.ports.find((p: { name: string }) => p.name === 'http');
    expect(String(http.containerPort)).toBe(flagValue(c.command, '--http-port'));
  });

  test('the grace period outlasts the preStop sleep plus --exit-timeout-secs', () => {
    const c = inferaContainer(docs);
    const exit = Number(flagValue(c.command, '--exit-timeout-secs'));
    const sleep = Number(c.lifecycle.preStop.exec.command[1]);
    expect(byKind(docs, 'Deployment')!.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(exit + sleep);
  });

  test('the Service exposes HTTP, gRPC and metrics by the container port names', () => {
    const ports = byKind(docs, 'Service')!.spec.ports.map((p: { name: string; port: number; targetPort: string }) => [p.name, p.port, p.targetPort]);
    expect(ports).toEqual([
      ['http', 8000, 'http'],
      ['grpc', 8001, 'grpc'],
      ['metrics', 8002, 'metrics'],
    ]);
  });

  test('every flag of the container command is a flag of infera serve', () => {
    const help = serveHelp();
    const c = inferaContainer(docs);
    expect(c.command.slice(0, 2)).toEqual(['infera', 'serve']);
    for (const arg of c.command.slice(2)) expect(help, arg).toContain(`${arg.split('=')[0]} `);
  });
});

describe('chart with custom values', () => {
  test('--set changes the grace period with the exit timeout and drops the preStop hook at 0', () => {
    const docs = renderWith(['server.exitTimeoutSecs=120,lifecycle.preStopSleepSeconds=0']);
    expectValid(docs);
    const c = inferaContainer(docs);
    expect(flagValue(c.command, '--exit-timeout-secs')).toBe('120');
    expect(c.lifecycle).toBeUndefined();
    expect(byKind(docs, 'Deployment')!.spec.template.spec.terminationGracePeriodSeconds).toBe(125);
  });

  test('each model repository source mounts the repository read-only where --model-repository points', () => {
    for (const [set, key] of [
      ['modelRepository.source=pvc,modelRepository.pvc.claimName=models', 'persistentVolumeClaim'],
      ['modelRepository.source=configMap,modelRepository.configMap.name=models', 'configMap'],
      ['modelRepository.source=initContainer,modelRepository.mountPath=/srv/models', 'emptyDir'],
    ] as const) {
      const docs = renderWith([set]);
      expectValid(docs);
      const spec = byKind(docs, 'Deployment')!.spec.template.spec;
      const vol = spec.volumes.find((v: { name: string }) => v.name === 'model-repository');
      expect(Object.keys(vol), set).toEqual(['name', key]);
      const c = inferaContainer(docs);
      const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'model-repository');
      expect(mount.readOnly).toBe(true);
      expect(flagValue(c.command, '--model-repository')).toBe(mount.mountPath);
      expect(spec.initContainers !== undefined).toBe(key === 'emptyDir');
    }
  });

  test('a pvc source without a claim name, an unknown source, or HPA and KEDA together fail to render', () => {
    expect(() => renderWith(['modelRepository.source=pvc'])).toThrow(/modelRepository.pvc.claimName is required/);
    expect(() => renderWith(['modelRepository.source=s3'])).toThrow(/must be pvc, configMap or initContainer/);
    expect(() => renderWith(['autoscaling.enabled=true,keda.enabled=true'])).toThrow(/autoscaling or keda, not both/);
  });

  test('with an autoscaler the Deployment leaves replicas to it', () => {
    for (const set of ['autoscaling.enabled=true', 'keda.enabled=true']) {
      const docs = renderWith([set, 'replicaCount=3']);
      expectValid(docs);
      expect(byKind(docs, 'Deployment')!.spec.replicas, set).toBeUndefined();
    }
  });

  test('the HPA targets the Deployment on the metric prometheus-adapter serves', () => {
    const docs = renderWith(['autoscaling.enabled=true,autoscaling.targetCPUUtilizationPercentage=70']);
    expectValid(docs);
    const hpa = byKind(docs, 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'infera' });
    expect(hpa.spec.metrics.map((m: { type: string }) => m.type)).toEqual(['Pods', 'Resource']);
    const adapter = parseYamlFile('deploy/prometheus-adapter/values.yaml');
    const served = adapter.rules.custom.map((r: { name: { as: string } }) => r.name.as);
    expect(served).toContain(hpa.spec.metrics[0].pods.metric.name);
  });

  test('monitors select the release pods and scrape the metrics port', () => {
    const docs = renderWith(['serviceMonitor.enabled=true,podMonitor.enabled=true,prometheusRule.enabled=true'], [], 'ml', 'prod');
    expectValid(docs);
    const dep = byKind(docs, 'Deployment')!;
    expect(byKind(docs, 'ServiceMonitor')!.spec.selector.matchLabels).toEqual(byKind(docs, 'Service')!.metadata.labels && dep.spec.selector.matchLabels);
    expect(byKind(docs, 'PodMonitor')!.spec.podMetricsEndpoints[0].port).toBe('metrics');
    for (const rule of byKind(docs, 'PrometheusRule')!.spec.groups[0].rules) expect(rule.expr).toContain('namespace="prod",pod=~"ml-.*"');
  });
});

describe('KServe ClusterServingRuntime', () => {
  const runtime = parseYamlFile('deploy/kserve/cluster-serving-runtime.yaml') as Manifest;

  test('passes its schema and serves the triton format on KServe ports', () => {
    expect(validateManifest(runtime)).toEqual([]);
    expect(runtime.spec.supportedModelFormats).toContainEqual({ name: 'triton', version: '2', autoSelect: true, priority: 2 });
    const c = runtime.spec.containers[0];
    expect(c.name).toBe('kserve-container');
    expect(flagValue(c.args, '--model-store')).toBe('/mnt/models');
    expect(flagValue(c.args, '--http-port')).toBe('8080');
    expect(flagValue(c.args, '--grpc-port')).toBe('9000');
  });

  test('its flags are infera serve flags (--model-store is the hidden tritonserver alias)', () => {
    const help = serveHelp();
    const c = runtime.spec.containers[0];
    expect(c.command).toEqual(['infera']);
    expect(c.args[0]).toBe('serve');
    for (const arg of c.args.slice(1)) {
      const flag = arg.split('=')[0];
      if (flag !== '--model-store') expect(help, arg).toContain(`${flag} `);
    }
  });
});

describe('the schemas are not vacuous', () => {
  const deployment = (): Manifest => structuredClone(byKind(renderWith(), 'Deployment')!);

  test('they reject a misspelt container field, a probe without a port, a bad port name and an unknown kind', () => {
    const misspelt = deployment();
    const c = misspelt.spec.template.spec.containers[0];
    c.readinesProbe = c.readinessProbe;
    delete c.readinessProbe;
    expect(validateManifest(misspelt).join('\n')).toMatch(/must NOT have additional properties.*readinesProbe/);

    const noPort = deployment();
    delete noPort.spec.template.spec.containers[0].livenessProbe.httpGet.port;
    expect(validateManifest(noPort).join('\n')).toMatch(/livenessProbe\/httpGet: must have required property 'port'/);

    const longName = deployment();
    longName.spec.template.spec.containers[0].ports[0].name = 'http-port-name-too-long';
    expect(validateManifest(longName).join('\n')).toMatch(/ports\/0\/name/);

    expect(validateManifest({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' } })).toEqual(['no schema for kind Pod']);
  });
});
