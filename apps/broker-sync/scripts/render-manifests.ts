// Renders the Broker's access model (libs/broker/src/access-policy.ts) to manifests/broker-access.yaml.
import { writeFileSync } from 'node:fs';
import { renderBrokerAccessYaml } from '../src/access.ts';

const out = new URL('../manifests/broker-access.yaml', import.meta.url);
writeFileSync(out, await renderBrokerAccessYaml({ namespace: 'strait-broker' }));
console.log(`wrote ${out.pathname}`);
