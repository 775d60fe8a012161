import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, UnavailableError } from '../../errors/index.js';

type Kind = 0 | 1 | 2;
const KIND_NAMES = ['counter', 'gauge', 'histogram'] as const;

interface Family {
  name: string;
  description: string;
  kind: Kind;
  metric?: Counter | Gauge | Histogram;
  labelNames?: string[];
  /** Instances (stubs) that created it; removed from the registry when the last one goes. */
  owners: Set<object>;
}

interface MetricRef {
  family: Family;
  labels: Record<string, string>;
}

/**
 * Custom metrics of Python models (Triton's `pb_utils.MetricFamily` / `Metric`), exported on
 * the server's /metrics. A family is shared by the instances that create it with the same
 * name, kind and description, and leaves /metrics when the last of them closes. prom-client
 * fixes a family's label names at its first metric, so later metrics must use the same keys.
 */
export class CustomMetrics {
  readonly #registry: Registry | undefined;
  readonly #families = new Map<string, Family>();
  readonly #byId = new Map<number, Family>();
  readonly #metrics = new Map<number, MetricRef>();
  #nextId = 1;

  constructor(registry: Registry | undefined) {
    this.#registry = registry;
  }

  /** @returns the family's id. @throws AlreadyExistsError for the same name with another kind or description. */
  family(owner: object, name: string, description: string, kind: number): number {
    if (this.#registry === undefined) throw new UnavailableError('custom metrics are not available outside an InferenceServer');
    if (kind !== 0 && kind !== 1 && kind !== 2) throw new InvalidArgumentError(`metric family '${name}': unknown kind ${kind}`);
    let family = this.#families.get(name);
    if (family === undefined) {
      family = { name, description, kind, owners: new Set() };
      this.#families.set(name, family);
    } else if (family.kind !== kind || family.description !== description) {
      throw new AlreadyExistsError(`metric family '${name}' already exists as a ${KIND_NAMES[family.kind]} with another description or kind`);
    }
    family.owners.add(owner);
    const id = this.#nextId++;
    this.#byId.set(id, family);
    return id;
  }

  /** @returns the metric's id. @throws InvalidArgumentError when the label names differ from the family's first metric. */
  metric(familyId: number, labels: Record<string, string>, buckets: number[] | null): number {
    const family = this.#byId.get(familyId);
    if (family === undefined) throw new NotFoundError(`metric family ${familyId} not found`);
    // Sorted: prom-client prints labels in the order of the object's keys.
    labels = Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const labelNames = Object.keys(labels);
    if (family.metric === undefined) {
      const opts = { name: family.name, help: family.description, labelNames, registers: [this.#registry!] };
      family.metric =
        family.kind === 0 ? new Counter(opts) : family.kind === 1 ? new Gauge(opts) : new Histogram({ ...opts, buckets: buckets ?? undefined });
      family.labelNames = labelNames;
    } else if (family.labelNames!.join('\u0000') !== labelNames.join('\u0000')) {
      throw new InvalidArgumentError(
        `metric family '${family.name}': labels [${labelNames.join(', ')}] differ from the family's [${family.labelNames!.join(', ')}] (infera needs the same label names for every metric of a family)`,
      );
    }
    const id = this.#nextId++;
    this.#metrics.set(id, { family, labels });
    // Triton shows a metric from its creation on, at 0.
    if (family.kind !== 2) (family.metric as Counter).inc(labels, 0);
    return id;
  }

  update(metricId: number, op: string, value: number): void {
    const ref = this.#ref(metricId);
    const m = ref.family.metric!;
    if (op === 'increment') {
      if (ref.family.kind === 0 && value < 0) throw new InvalidArgumentError('Failed to increment metric value. Counter metrics cannot be decremented.');
      (m as Gauge).inc(ref.labels, value);
    } else if (op === 'set') (m as Gauge).set(ref.labels, value);
    else if (op === 'observe') (m as Histogram).observe(ref.labels, value);
  }

  async value(metricId: number): Promise<number> {
    const ref = this.#ref(metricId);
    const data = await ref.family.metric!.get();
    const want = JSON.stringify(Object.entries(ref.labels).sort());
    const sample = data.values.find(
      (v) => JSON.stringify(Object.entries(v.labels).sort()) === want && (ref.family.kind !== 2 || (v as { metricName?: string }).metricName?.endsWith('_sum')),
    );
    return sample?.value ?? 0;
  }

  /** Drops `owner`'s families; a family nobody else created leaves the registry. */
  release(owner: object): void {
    for (const [name, family] of this.#families) {
      if (!family.owners.delete(owner) || family.owners.size > 0) continue;
      this.#families.delete(name);
      if (family.metric !== undefined) this.#registry?.removeSingleMetric(name);
    }
  }

  #ref(metricId: number): MetricRef {
    const ref = this.#metrics.get(metricId);
    if (ref === undefined) throw new NotFoundError(`metric ${metricId} not found`);
    return ref;
  }
}
