/**
 * The Helm commands of deploy/README.md, rendered with deploy/helm/render.mjs and parsed with
 * deploy/helm/yaml.mjs (the yaml library, read as Helm reads YAML), so the tests check exactly what the README tells users to run.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseHelmTemplateArgs, renderChart } from '../../../deploy/helm/render.mjs';
import { parseAllDocuments, parseDocument } from '../../../deploy/helm/yaml.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHART = path.join(ROOT, 'deploy/helm/infera');

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec: Record<string, any>;
}

export interface HelmCommand {
  line: string;
  release: string;
  chartDir: string;
  valueFiles: string[];
  set: string[];
  namespace: string;
}

/** Flags of `helm install/upgrade` that change nothing in the rendered manifests. */
const NO_RENDER_EFFECT = new Set(['--create-namespace', '--wait', '--atomic']);

/**
 * The `helm template`, `helm install` and `helm upgrade --install` lines between the
 * helm-commands markers of deploy/README.md, as `helm template` arguments (paths resolved
 * against the repository root).
 */
export function readmeHelmCommands(): HelmCommand[] {
  const readme = readFileSync(path.join(ROOT, 'deploy/README.md'), 'utf8');
  const block = /<!-- helm-commands:start -->([\s\S]*?)<!-- helm-commands:end -->/.exec(readme);
  if (!block) throw new Error('deploy/README.md has no helm-commands block');
  return block[1]!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('helm '))
    .map((line) => {
      let words = line.split(/\s+/).slice(1);
      if (words[0] === 'template' || words[0] === 'install') words = words.slice(1);
      else if (words[0] === 'upgrade' && words[1] === '--install') words = words.slice(2);
      else throw new Error(`not a helm template/install command: ${line}`);
      const args = parseHelmTemplateArgs(words.filter((w) => !NO_RENDER_EFFECT.has(w)));
      return {
        line,
        ...args,
        chartDir: path.resolve(ROOT, args.chartDir),
        valueFiles: args.valueFiles.map((f: string) => path.resolve(ROOT, f)),
      } as HelmCommand;
    });
}

/** Renders the chart for `cmd` and parses every manifest. */
export function render(cmd: Omit<HelmCommand, 'line'>): Manifest[] {
  return parseAllDocuments(renderChart(cmd)) as Manifest[];
}

/** Renders the chart with the default values plus `set` expressions. */
export function renderWith(set: string[] = [], valueFiles: string[] = [], release = 'infera', namespace = 'default'): Manifest[] {
  return render({ release, chartDir: CHART, valueFiles, set, namespace });
}

export function parseYamlFile(file: string): any {
  return parseDocument(readFileSync(path.resolve(ROOT, file), 'utf8'));
}

export const byKind = (docs: Manifest[], kind: string): Manifest | undefined => docs.find((d) => d.kind === kind);

/** The infera container of a rendered Deployment. */
export function inferaContainer(docs: Manifest[]): any {
  const dep = byKind(docs, 'Deployment');
  if (!dep) throw new Error('no Deployment rendered');
  return dep.spec.template.spec.containers.find((c: { name: string }) => c.name === 'infera');
}

/** The value of `--flag=value` in a container command, or undefined. */
export function flagValue(command: string[], flag: string): string | undefined {
  const hit = command.find((a) => a.startsWith(`${flag}=`));
  return hit?.slice(flag.length + 1);
}
