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

/** Every workspace package.json (what `npm ci` needs to lay out node_modules). */
function workspacePackages(): string[] {
  return ['apps', 'libs'].flatMap((top) =>
    readdirSync(join(REPO_ROOT, top))
      .filter((d) => existsSync(join(REPO_ROOT, top, d, 'package.json')))
      .map((d) => `${top}/${d}/package.json`),
  );
}

describe.each(Object.keys(TOOLS))('apps/%s/Dockerfile', (service) => {
  const text = readFileSync(join(REPO_ROOT, 'apps', service, 'Dockerfile'), 'utf8');

  it('is multi-stage on Node 24 slim and starts the service entry point', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-[a-z]+-slim$/m);
    expect(text.match(/^FROM /gm)).toHaveLength(2);
    expect(text).toContain('npm ci --omit=dev');
    expect(text).toContain(`ENTRYPOINT ["node", "apps/${service}/src/main.ts"]`);
  });

  it('copies every workspace package.json before npm ci (fails when a new package is missing)', () => {
    for (const pkg of workspacePackages()) expect(text, pkg).toContain(`COPY ${pkg} ${pkg.replace(/package\.json$/, '')}`);
  });

  it('installs exactly the tools the service drives', () => {
    const line = /apt-get install -y --no-install-recommends ([^\\\n]+)/.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
    expect(line.sort()).toEqual([...TOOLS[service]!].sort());
  });

  it('runs as root only when it must program the kernel', () => {
    expect(text).toMatch(TOOLS[service]!.length > 0 ? /^USER 0:0$/m : /^USER 65532:65532$/m);
  });

  it('has an Nx image target', () => {
    const project = JSON.parse(readFileSync(join(REPO_ROOT, 'apps', service, 'project.json'), 'utf8')) as { name: string; targets: Record<string, { options: { command: string } }> };
    expect(project.name).toBe(`@strait/${service}`);
    expect(project.targets['image']?.options.command).toBe(`bash libs/deploy/scripts/build-image.sh ${service}`);
  });
});
