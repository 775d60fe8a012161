import type { ModelConfig } from '../generated/model_config_pb.js';

/**
 * The versions a version policy serves out of those on disk (reference §8 "Version policy"):
 * `latest { num_versions: n }` the n highest (default n = 1), `all` every one, `specific`
 * those listed that exist. Ascending order.
 */
export function selectVersions(config: ModelConfig, available: readonly number[]): number[] {
  const choice = config.versionPolicy?.policyChoice;
  const sorted = [...available].sort((a, b) => a - b);
  switch (choice?.case) {
    case 'all':
      return sorted;
    case 'specific': {
      const wanted = new Set(choice.value.versions.map(Number));
      return sorted.filter((v) => wanted.has(v));
    }
    case 'latest':
    default: {
      const n = choice?.case === 'latest' ? Math.max(1, Number(choice.value.numVersions)) : 1;
      return sorted.slice(-n);
    }
  }
}
