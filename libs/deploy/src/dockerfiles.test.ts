import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './paths.ts';

/** The Debian packages each service drives at run time (binaries it spawns). */
const TOOLS: Record<string, string[]> = {
  'tunnel-operator': ['iproute2', 'nftables', 'iputils-ping', 'wireguard-tools', 'wireguard-go', 'strongswan-charon', 'strongswan-swanctl', 'libcharon-extra-plugins'],
  'natmapping-operator': ['iproute2', 'nftables'],
  'route-agent': ['iproute2', 'nftables'],
  'labeler-operator': [],
  'broker-sync': [],
};

const DOCKERFILE = readFileSync(join(REPO_ROOT, 'images/Dockerfile'), 'utf8');

/** Every workspace package.json (what `npm ci` needs to lay out node_modules). */
function workspacePackages(): string[] {
  return ['apps', 'libs'].flatMap((top) =>
    readdirSync(join(REPO_ROOT, top))
      .filter((d) => existsSync(join(REPO_ROOT, top, d, 'package.json')))
      .map((d) => `${top}/${d}/package.json`),
  );
}

/** The lines of one stage (`FROM … AS name` up to the next FROM). */
function stage(name: string): string {
  const parts = DOCKERFILE.split(/^(?=FROM )/m);
  const found = parts.find((p) => new RegExp(`^FROM \\S+ AS ${name}$`, 'm').test(p));
  if (!found) throw new Error(`images/Dockerfile has no stage ${name}`);
  return found;
}

describe('images/Dockerfile', () => {
  it('is multi-stage on Node 24 slim: dependencies, sources, then an api and a node-agent target starting the service', () => {
    expect(DOCKERFILE).toMatch(/^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    expect(DOCKERFILE.match(/^FROM \$\{NODE_IMAGE\} AS (deps|sources|api|node-agent)$/gm)).toHaveLength(4);
    expect(stage('deps')).toContain('npm ci --omit=dev');
    expect(stage('sources')).toContain('COPY apps/${SERVICE} apps/${SERVICE}');
    expect(stage('sources')).toContain('ln -s "apps/${SERVICE}/src/main.ts" service.ts');
    for (const t of ['api', 'node-agent']) expect(stage(t)).toContain('ENTRYPOINT ["node", "service.ts"]');
  });

  it('copies every workspace package.json before npm ci (fails when a new package is missing)', () => {
    for (const pkg of workspacePackages()) expect(stage('deps'), pkg).toContain(`COPY ${pkg} ${pkg.replace(/package\.json$/, '')}`);
  });

  it('runs the api target as non-root without tools, the node-agent target as root with the TOOLS given', () => {
    expect(stage('api')).toMatch(/^USER 65532:65532$/m);
    expect(stage('api')).not.toMatch(/apt-get/);
    expect(stage('node-agent')).toMatch(/^USER 0:0$/m);
    expect(stage('node-agent')).toContain('apt-get install -y --no-install-recommends ${TOOLS}');
  });

  it('leaves the test harness and tests out of every image', () => {
    expect(stage('sources')).toContain("find libs apps -name '*.test.ts' -delete && rm -rf libs/testing libs/lab libs/deploy");
  });

  it('replaces the per-service Dockerfiles', () => {
    for (const service of Object.keys(TOOLS)) expect(existsSync(join(REPO_ROOT, 'apps', service, 'Dockerfile')), service).toBe(false);
  });
});

describe.each(Object.keys(TOOLS))('the image of %s', (service) => {
  it('is built by its Nx image target from images/Dockerfile with the right target and exactly the tools it drives', () => {
    const project = JSON.parse(readFileSync(join(REPO_ROOT, 'apps', service, 'project.json'), 'utf8')) as { name: string; targets: Record<string, { options: { command: string } }> };
    expect(project.name).toBe(`@strait/${service}`);
    const tools = TOOLS[service]!;
    const want = tools.length > 0 ? `bash libs/deploy/scripts/build-image.sh ${service} node-agent '${tools.join(' ')}'` : `bash libs/deploy/scripts/build-image.sh ${service} api`;
    const got = project.targets['image']?.options.command ?? '';
    if (tools.length > 0) {
      // Same packages, any order.
      const m = /^bash libs\/deploy\/scripts\/build-image\.sh (\S+) node-agent '([^']+)'$/.exec(got);
      expect(m?.[1], got).toBe(service);
      expect(m?.[2]?.split(' ').sort()).toEqual([...tools].sort());
    } else {
      expect(got).toBe(want);
    }
  });
});
