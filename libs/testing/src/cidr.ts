/** Parses an IPv4 CIDR (`10.96.0.0/16`) into its network address as a number and the prefix length. */
export function parseIpv4Cidr(cidr: string): { network: number; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255) || prefix > 30 || prefix < 8) {
    throw new Error(`service CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix between /8 and /30`);
  }
  const addr = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (addr % size !== 0) throw new Error(`service CIDR ${cidr} has host bits set (network would be ${formatIpv4(addr - (addr % size))}/${prefix})`);
  return { network: addr, prefix };
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** The first usable address of a CIDR: the ClusterIP of the `kubernetes` Service. */
export function firstServiceIp(cidr: string): string {
  return formatIpv4(parseIpv4Cidr(cidr).network + 1);
}
