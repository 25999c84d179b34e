// @strait/api: Strait's custom resources (net.strait.io/v1alpha1) from one source of truth,
// the TypeBox schemas in ./resources: TypeScript types, runtime validators and the CRD YAML.

export * from './constants.ts';
export * from './ip.ts';

export type { ValidationResult, Validate } from './schema/validator.ts';
export { createValidator } from './schema/validator.ts';
export type { ValidationRule, CrdValidationRule, RuleReason, Report } from './schema/rules.ts';
export { withRules, rulesOf } from './schema/rules.ts';
export { toStructuralSchema, StructuralSchemaError, type JSONSchemaProps } from './schema/structural.ts';
export {
  BACKENDS,
  TUNNEL_PHASES,
  BackendSchema,
  BackendConfigSchema,
  WireGuardConfigSchema,
  IPsecConfigSchema,
  VxlanConfigSchema,
  EndpointBackendConfigSchema,
  EndpointVxlanConfigSchema,
  offeredBackends,
  ConditionSchema,
  LatencySchema,
  TunnelPhaseSchema,
  MAX_IP_LENGTH,
  MAX_CIDR_LENGTH,
  type Backend,
  type BackendConfig,
  type WireGuardConfig,
  type IPsecConfig,
  type VxlanConfig,
  type EndpointBackendConfig,
  type EndpointVxlanConfig,
  type Condition,
  type Latency,
  type TunnelPhase,
} from './schema/fields.ts';

export type { ResourceDescriptor, ResourceDefinition, PrinterColumn, Resource, ResourceList } from './resources/definition.ts';
export { RESOURCE_DEFINITIONS } from './resources/all.ts';
export * from './resources/cluster.ts';
export * from './resources/endpoint.ts';
export * from './resources/tunnel-endpoint.ts';
export * from './resources/nat-mapping.ts';
export * from './resources/gateway.ts';
export { examples, EXAMPLE_WIREGUARD_PUBLIC_KEY } from './resources/examples.ts';

export {
  buildCustomResourceDefinition,
  buildCustomResourceDefinitions,
  type CustomResourceDefinition,
} from './crd/build.ts';
export { renderCrdFiles, COMBINED_FILE, type GeneratedFile } from './crd/render.ts';
export * from './broker-constants.ts';
