export { brokerCluster, brokerEndpoint, offerConfig } from './fixtures.ts';
