export { brokerCluster, brokerEndpoint } from './fixtures.ts';
