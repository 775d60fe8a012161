/**
 * JSON schemas for the Kubernetes objects the deploy/ manifests contain, checked with ajv.
 *
 * No Kubernetes OpenAPI schema package is installed, so these are hand-written from the
 * Kubernetes API reference (core/v1, apps/v1, autoscaling/v2) and the CRDs of the
 * Prometheus Operator (monitoring.coreos.com/v1), KEDA (keda.sh/v1alpha1) and KServe
 * (serving.kserve.io/v1alpha1). They cover the fields these manifests use: required fields,
 * types and enums, and closed property lists (additionalProperties: false) on the objects where
 * a misspelt field would otherwise be silently dropped by the API server (pod spec, container,
 * probe, service port, HPA metric, monitor endpoint, alerting rule). Fields of the real schemas
 * that the manifests do not use are listed as allowed where the object is closed.
 */
import Ajv, { type ErrorObject } from 'ajv';

type Schema = Record<string, unknown>;

const str = { type: 'string', minLength: 1 };
const int = { type: 'integer' };
const nonNegInt = { type: 'integer', minimum: 0 };
const posInt = { type: 'integer', minimum: 1 };
const port = { type: 'integer', minimum: 1, maximum: 65535 };
const bool = { type: 'boolean' };
const strMap = { type: 'object', additionalProperties: { type: 'string' } };
const strList = { type: 'array', items: { type: 'string' } };
const obj = { type: 'object' };
const arr = { type: 'array' };
/** A resource.Quantity: a string like "500m"/"1Gi", or a number. */
const quantity = { anyOf: [{ type: 'string', pattern: '^[+-]?([0-9.]+)([eE][+-]?[0-9]+|[numkMGTPE]i?|Ki|Mi|Gi|Ti|Pi|Ei)?$' }, { type: 'number' }] };
/** An IntOrString port reference: a number, or an IANA_SVC_NAME (at most 15 characters). */
const portRef = { anyOf: [port, { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$' }] };
const dns1123 = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };
const duration = { type: 'string', pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$' };

const closed = (properties: Schema, required: string[] = []): Schema => ({ type: 'object', properties, required, additionalProperties: false });

const metadata = closed({ name: dns1123, namespace: dns1123, labels: strMap, annotations: strMap, generateName: str }, ['name']);
const labelSelector = closed({ matchLabels: strMap, matchExpressions: arr });
const resources = closed({
  requests: { type: 'object', additionalProperties: quantity },
  limits: { type: 'object', additionalProperties: quantity },
  claims: arr,
});
const execAction = closed({ command: { ...strList, minItems: 1 } }, ['command']);
const httpGet = closed({ path: { type: 'string', pattern: '^/' }, port: portRef, host: str, scheme: { enum: ['HTTP', 'HTTPS'] }, httpHeaders: arr }, ['port']);
const probe = closed({
  httpGet,
  exec: execAction,
  tcpSocket: obj,
  grpc: obj,
  initialDelaySeconds: nonNegInt,
  periodSeconds: posInt,
  timeoutSeconds: posInt,
  successThreshold: posInt,
  failureThreshold: posInt,
  terminationGracePeriodSeconds: posInt,
});
const lifecycleHandler = closed({ exec: execAction, httpGet, sleep: closed({ seconds: posInt }, ['seconds']), tcpSocket: obj });
const securityContext = closed({
  allowPrivilegeEscalation: bool,
  readOnlyRootFilesystem: bool,
  runAsNonRoot: bool,
  runAsUser: nonNegInt,
  runAsGroup: nonNegInt,
  privileged: bool,
  capabilities: closed({ add: strList, drop: strList }),
  seccompProfile: obj,
  seLinuxOptions: obj,
  procMount: str,
  appArmorProfile: obj,
});
const containerPort = closed({ name: { type: 'string', pattern: '^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$' }, containerPort: port, protocol: { enum: ['TCP', 'UDP', 'SCTP'] }, hostPort: port, hostIP: str }, ['containerPort']);
const volumeMount = closed({ name: str, mountPath: { type: 'string', pattern: '^/' }, readOnly: bool, subPath: str, subPathExpr: str, mountPropagation: str, recursiveReadOnly: str }, ['name', 'mountPath']);
const container = closed(
  {
    name: dns1123,
    image: str,
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    command: strList,
    args: strList,
    workingDir: str,
    ports: { type: 'array', items: containerPort },
    env: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: str, value: { type: 'string' }, valueFrom: obj } } },
    envFrom: arr,
    resources,
    resizePolicy: arr,
    restartPolicy: { enum: ['Always'] },
    volumeMounts: { type: 'array', items: volumeMount },
    volumeDevices: arr,
    livenessProbe: probe,
    readinessProbe: probe,
    startupProbe: probe,
    lifecycle: closed({ preStop: lifecycleHandler, postStart: lifecycleHandler, stopSignal: str }),
    terminationMessagePath: str,
    terminationMessagePolicy: str,
    securityContext,
    stdin: bool,
    stdinOnce: bool,
    tty: bool,
  },
  ['name'],
);
const volume = {
  type: 'object',
  required: ['name'],
  properties: {
    name: dns1123,
    emptyDir: closed({ medium: { enum: ['', 'Memory'] }, sizeLimit: quantity }),
    persistentVolumeClaim: closed({ claimName: str, readOnly: bool }, ['claimName']),
    configMap: closed({ name: str, items: { type: 'array', items: closed({ key: str, path: str, mode: int }, ['key', 'path']) }, defaultMode: int, optional: bool }),
  },
  minProperties: 2,
  maxProperties: 2,
};
const podSpec = closed(
  {
    containers: { type: 'array', items: container, minItems: 1 },
    initContainers: { type: 'array', items: container },
    volumes: { type: 'array', items: volume },
    terminationGracePeriodSeconds: nonNegInt,
    imagePullSecrets: { type: 'array', items: closed({ name: str }, ['name']) },
    securityContext: closed({ runAsNonRoot: bool, runAsUser: nonNegInt, runAsGroup: nonNegInt, fsGroup: nonNegInt, fsGroupChangePolicy: str, supplementalGroups: arr, seccompProfile: obj, sysctls: arr }),
    nodeSelector: strMap,
    tolerations: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, operator: { enum: ['Exists', 'Equal'] }, value: { type: 'string' }, effect: { type: 'string' }, tolerationSeconds: int }, additionalProperties: false } },
    affinity: closed({ nodeAffinity: obj, podAffinity: obj, podAntiAffinity: obj }),
    serviceAccountName: str,
    automountServiceAccountToken: bool,
    priorityClassName: str,
    topologySpreadConstraints: arr,
    runtimeClassName: str,
    restartPolicy: { enum: ['Always', 'OnFailure', 'Never'] },
    dnsPolicy: str,
    hostNetwork: bool,
    schedulerName: str,
  },
  ['containers'],
);

const deployment = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'apps/v1' },
    kind: { const: 'Deployment' },
    metadata,
    spec: closed(
      {
        replicas: nonNegInt,
        selector: labelSelector,
        template: closed({ metadata: closed({ labels: strMap, annotations: strMap }), spec: podSpec }, ['spec']),
        strategy: obj,
        minReadySeconds: nonNegInt,
        revisionHistoryLimit: nonNegInt,
        progressDeadlineSeconds: posInt,
        paused: bool,
      },
      ['selector', 'template'],
    ),
  },
};

const service = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'v1' },
    kind: { const: 'Service' },
    metadata,
    spec: {
      type: 'object',
      properties: {
        type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
        selector: strMap,
        ports: { type: 'array', minItems: 1, items: closed({ name: dns1123, port, targetPort: portRef, protocol: { enum: ['TCP', 'UDP', 'SCTP'] }, appProtocol: str, nodePort: port }, ['port']) },
      },
    },
  },
};

const metricTarget = closed({ type: { enum: ['Utilization', 'Value', 'AverageValue'] }, value: quantity, averageValue: quantity, averageUtilization: posInt }, ['type']);
const metricIdentifier = closed({ name: str, selector: labelSelector }, ['name']);
const hpaMetric = closed(
  {
    type: { enum: ['Pods', 'Resource', 'Object', 'External', 'ContainerResource'] },
    pods: closed({ metric: metricIdentifier, target: metricTarget }, ['metric', 'target']),
    resource: closed({ name: str, target: metricTarget }, ['name', 'target']),
    object: obj,
    external: obj,
    containerResource: obj,
  },
  ['type'],
);
const scalingRules = closed({ stabilizationWindowSeconds: { type: 'integer', minimum: 0, maximum: 3600 }, selectPolicy: { enum: ['Max', 'Min', 'Disabled'] }, policies: arr, tolerance: quantity });
const hpa = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    apiVersion: { const: 'autoscaling/v2' },
    kind: { const: 'HorizontalPodAutoscaler' },
    metadata,
    spec: closed(
      {
        scaleTargetRef: closed({ apiVersion: str, kind: str, name: str }, ['kind', 'name']),
        minReplicas: posInt,
        maxReplicas: posInt,
        metrics: { type: 'array', items: hpaMetric },
        behavior: closed({ scaleUp: scalingRules, scaleDown: scalingRules }),
      },
      ['scaleTargetRef', 'maxReplicas'],
    ),
  },
};

const monitorEndpoint = closed({ port: str, path: { type: 'string', pattern: '^/' }, interval: duration, scrapeTimeout: duration, scheme: { enum: ['http', 'https'] }, honorLabels: bool, relabelings: arr, metricRelabelings: arr });
const crd = (apiVersion: string, kind: string, spec: Schema): Schema => ({
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: { apiVersion: { const: apiVersion }, kind: { const: kind }, metadata, spec },
});

const serviceMonitor = crd('monitoring.coreos.com/v1', 'ServiceMonitor', closed({ selector: labelSelector, endpoints: { type: 'array', minItems: 1, items: monitorEndpoint }, namespaceSelector: obj, jobLabel: str }, ['selector', 'endpoints']));
const podMonitor = crd('monitoring.coreos.com/v1', 'PodMonitor', closed({ selector: labelSelector, podMetricsEndpoints: { type: 'array', minItems: 1, items: monitorEndpoint }, namespaceSelector: obj, jobLabel: str }, ['selector', 'podMetricsEndpoints']));
const alertingRule = closed({ alert: str, expr: str, for: duration, keep_firing_for: duration, labels: strMap, annotations: strMap }, ['alert', 'expr']);
const prometheusRule = crd(
  'monitoring.coreos.com/v1',
  'PrometheusRule',
  closed({ groups: { type: 'array', minItems: 1, items: closed({ name: str, interval: duration, rules: { type: 'array', minItems: 1, items: alertingRule } }, ['name', 'rules']) } }, ['groups']),
);
const scaledObject = crd(
  'keda.sh/v1alpha1',
  'ScaledObject',
  closed(
    {
      scaleTargetRef: closed({ apiVersion: str, kind: str, name: str, envSourceContainerName: str }, ['name']),
      minReplicaCount: nonNegInt,
      maxReplicaCount: posInt,
      pollingInterval: posInt,
      cooldownPeriod: nonNegInt,
      idleReplicaCount: nonNegInt,
      advanced: obj,
      fallback: obj,
      triggers: {
        type: 'array',
        minItems: 1,
        items: closed(
          {
            type: { const: 'prometheus' },
            name: str,
            metricType: { enum: ['AverageValue', 'Value', 'Utilization'] },
            metadata: closed({ serverAddress: { type: 'string', pattern: '^https?://' }, query: str, threshold: { type: 'string', pattern: '^[0-9.]+$' }, activationThreshold: str, namespace: str, authModes: str, ignoreNullValues: str, unsafeSsl: str }, ['serverAddress', 'query', 'threshold']),
            authenticationRef: obj,
          },
          ['type', 'metadata'],
        ),
      },
    },
    ['scaleTargetRef', 'triggers'],
  ),
);
const clusterServingRuntime = crd(
  'serving.kserve.io/v1alpha1',
  'ClusterServingRuntime',
  closed(
    {
      annotations: strMap,
      labels: strMap,
      supportedModelFormats: { type: 'array', minItems: 1, items: closed({ name: str, version: str, autoSelect: bool, priority: posInt }, ['name']) },
      protocolVersions: { type: 'array', items: { enum: ['v1', 'v2', 'grpc-v1', 'grpc-v2'] } },
      multiModel: bool,
      disabled: bool,
      containers: { type: 'array', minItems: 1, items: container },
      volumes: arr,
      nodeSelector: strMap,
      tolerations: arr,
      affinity: obj,
      imagePullSecrets: arr,
    },
    ['supportedModelFormats', 'containers'],
  ),
);

const SCHEMAS: Record<string, Schema> = {
  Deployment: deployment,
  Service: service,
  HorizontalPodAutoscaler: hpa,
  ServiceMonitor: serviceMonitor,
  PodMonitor: podMonitor,
  PrometheusRule: prometheusRule,
  ScaledObject: scaledObject,
  ClusterServingRuntime: clusterServingRuntime,
};

const ajv = new Ajv({ allErrors: true, strict: true });
const validators = Object.fromEntries(Object.entries(SCHEMAS).map(([kind, s]) => [kind, ajv.compile(s)]));

/** The kinds these schemas cover. */
export const KINDS = Object.keys(SCHEMAS);

/**
 * Validates one manifest object; returns the error lines ("<kind> <name><path>: <message>"),
 * empty when it is valid. An unknown kind is an error.
 */
export function validateManifest(doc: unknown): string[] {
  const m = doc as { kind?: string; metadata?: { name?: string } };
  const validate = m?.kind ? validators[m.kind] : undefined;
  if (!validate) return [`no schema for kind ${String(m?.kind)}`];
  if (validate(doc)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${m.kind} ${m.metadata?.name ?? '?'}${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
}
