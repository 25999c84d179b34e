/**
 * Strait's subjects. Every message is a hint: a receiver re-reads Kubernetes before acting on it.
 *
 * Payloads accept additional properties so that a newer publisher can add fields during a rolling
 * upgrade without older receivers dropping its messages; every listed field is checked.
 */
import Type, { type Static } from 'typebox';
import { defineSubject } from './subject.ts';
import { SUBJECT_TOKEN_PATTERN } from './token.ts';

/** A cluster id: usable as a subject token. */
export const ClusterIdSchema = Type.String({ pattern: SUBJECT_TOKEN_PATTERN });
/** RFC 3339 date-time, e.g. `new Date().toISOString()`. */
export const TimestampSchema = Type.String({ format: 'date-time' });
export const IPAddressSchema = Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' })]);
export const BackendSchema = Type.Union([Type.Literal('wireguard'), Type.Literal('ipsec'), Type.Literal('vxlan')]);
export const TunnelStatusValueSchema = Type.Union([Type.Literal('Connecting'), Type.Literal('Connected'), Type.Literal('Error')]);

const Name = Type.String({ minLength: 1, maxLength: 253 });

/** `strait.<cluster>.gateway.leader` — a gateway replica became the active gateway (Lease holder). */
export const GatewayLeaderPayloadSchema = Type.Object({
  cluster: ClusterIdSchema,
  /** The Lease holderIdentity. */
  holder: Name,
  /** The node the active gateway runs on. */
  node: Name,
  leaseTransitions: Type.Integer({ minimum: 0 }),
  timestamp: TimestampSchema,
});
export type GatewayLeaderPayload = Static<typeof GatewayLeaderPayloadSchema>;

export const GatewayLeaderSubject = defineSubject({
  kind: 'gateway_leader',
  template: 'strait.{cluster}.gateway.leader',
  schema: GatewayLeaderPayloadSchema,
});

/** `strait.<cluster>.tunnel.<peer>.status` — the tunnel from `cluster` to `peer` changed status. */
export const TunnelStatusPayloadSchema = Type.Object({
  cluster: ClusterIdSchema,
  peer: ClusterIdSchema,
  status: TunnelStatusValueSchema,
  rttMs: Type.Optional(Type.Number({ minimum: 0 })),
  timestamp: TimestampSchema,
});
export type TunnelStatusPayload = Static<typeof TunnelStatusPayloadSchema>;

export const TunnelStatusSubject = defineSubject({
  kind: 'tunnel_status',
  template: 'strait.{cluster}.tunnel.{peer}.status',
  schema: TunnelStatusPayloadSchema,
});

/** Summary of a cluster's Endpoint as published through the Broker. */
export const EndpointSummarySchema = Type.Object({
  publicIP: IPAddressSchema,
  privateIP: IPAddressSchema,
  backend: BackendSchema,
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  /** resourceVersion of the Endpoint object on the Broker: receivers re-read at least this version. */
  resourceVersion: Type.String({ minLength: 1, maxLength: 64 }),
});
export type EndpointSummary = Static<typeof EndpointSummarySchema>;

/** `strait.broker.endpoint.<cluster>` — the cluster's Endpoint changed on the Broker. */
export const BrokerEndpointPayloadSchema = Type.Object({
  cluster: ClusterIdSchema,
  endpoint: EndpointSummarySchema,
  timestamp: TimestampSchema,
});
export type BrokerEndpointPayload = Static<typeof BrokerEndpointPayloadSchema>;

export const BrokerEndpointSubject = defineSubject({
  kind: 'broker_endpoint',
  template: 'strait.broker.endpoint.{cluster}',
  schema: BrokerEndpointPayloadSchema,
});

/** Every Strait subject definition. */
export const StraitSubjects = {
  gatewayLeader: GatewayLeaderSubject,
  tunnelStatus: TunnelStatusSubject,
  brokerEndpoint: BrokerEndpointSubject,
} as const;
