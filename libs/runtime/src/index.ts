export {
  ConfigError,
  HelpRequested,
  InvalidValue,
  defineConfig,
  describeConfig,
  dns1123Label,
  dns1123Subdomain,
  envName,
  flagName,
  formatDuration,
  formatHostPort,
  formatUsage,
  opt,
  parseConfig,
  parseDuration,
  parseHostPort,
} from './config.ts';
export type { ConfigCheck, ConfigSpec, ConfigValues, HostPort, Option, OptionType, OptionValue, OptionsRecord } from './config.ts';
export {
  clusterOptions,
  kubeOptions,
  leaderElectionCheck,
  leaderElectionOptions,
  natsCheck,
  natsOptions,
  netnsOptions,
  nodeOptions,
  serviceOptions,
} from './options.ts';
export { kubeApiReadinessCheck, loadKubeConfig, probeKubeApi, useKubeApi } from './kube-readiness.ts';
export type { KubeProbePath } from './kube-readiness.ts';
export { launchService, packageVersion, runService } from './service.ts';
export type { LaunchResult, RunningService, ServiceContext, ServiceDefinition, ServiceHandle, ServiceIO, ServiceOptionsRecord } from './service.ts';
export { useBus } from './bus.ts';
export type { BusConfig } from './bus.ts';
