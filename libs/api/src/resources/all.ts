import { ClusterDefinition } from './cluster.ts';
import type { ResourceDefinition } from './definition.ts';
import { EndpointDefinition } from './endpoint.ts';
import { GatewayDefinition } from './gateway.ts';
import { NatMappingDefinition } from './nat-mapping.ts';
import { TunnelEndpointDefinition } from './tunnel-endpoint.ts';

/** Every Strait kind, in the order the CRD files are written. */
export const RESOURCE_DEFINITIONS: readonly ResourceDefinition[] = [
  ClusterDefinition,
  EndpointDefinition,
  TunnelEndpointDefinition,
  NatMappingDefinition,
  GatewayDefinition,
];
