/** Realistic nested facts: about 100 leaves, ~2.6 KB, as a Debian VM reports them. */
export function benchFacts(certname: string, round: number): Record<string, unknown> {
  const ip = `10.${(round % 200) + 1}.${certname.length % 250}.${(certname.charCodeAt(certname.length - 1) % 250) + 1}`;
  const mount = (size: number) => ({
    available: `${size - 3}.00 GiB`,
    available_bytes: (size - 3) * 2 ** 30,
    capacity: '12.5%',
    device: '/dev/sda1',
    filesystem: 'ext4',
    options: ['rw', 'relatime', 'errors=remount-ro'],
    size: `${size}.00 GiB`,
    size_bytes: size * 2 ** 30,
    used: '3.00 GiB',
    used_bytes: 3 * 2 ** 30,
  });
  return {
    os: {
      architecture: 'amd64',
      family: 'Debian',
      hardware: 'x86_64',
      name: 'Debian',
      selinux: { enabled: false },
      release: { full: '12.7', major: '12', minor: '7' },
      distro: { codename: 'bookworm', description: 'Debian GNU/Linux 12 (bookworm)', id: 'Debian', release: { full: '12.7', major: '12', minor: '7' } },
    },
    processors: { count: 2, isa: 'unknown', models: ['AMD EPYC 7B13', 'AMD EPYC 7B13'], physicalcount: 1, speed: '2.45 GHz' },
    memory: {
      system: {
        available: '20.1 GiB',
        available_bytes: 21_582_000_000 - round,
        capacity: '16.2%',
        total: '23.4 GiB',
        total_bytes: 25_125_000_000,
        used: '3.3 GiB',
        used_bytes: 3_543_000_000 + round,
      },
    },
    networking: {
      domain: 'example.com',
      fqdn: certname,
      hostname: certname.split('.')[0],
      ip,
      ip6: 'fe80::1',
      mac: '42:01:0a:00:00:05',
      mtu: 1460,
      netmask: '255.255.255.0',
      network: '10.0.0.0',
      primary: 'eth0',
      interfaces: {
        eth0: {
          bindings: [{ address: ip, netmask: '255.255.255.0', network: '10.0.0.0' }],
          ip,
          mac: '42:01:0a:00:00:05',
          mtu: 1460,
          netmask: '255.255.255.0',
          network: '10.0.0.0',
        },
        lo: {
          bindings: [{ address: '127.0.0.1', netmask: '255.0.0.0', network: '127.0.0.0' }],
          ip: '127.0.0.1',
          mtu: 65536,
          netmask: '255.0.0.0',
          network: '127.0.0.0',
        },
      },
    },
    disks: { sda: { model: 'PersistentDisk', size: '100.00 GiB', size_bytes: 107_374_182_400, vendor: 'Google' } },
    mountpoints: { '/': mount(98), '/boot/efi': mount(1) },
    system_uptime: { days: 3, hours: 77, seconds: 277_200 + round, uptime: '3 days' },
    dmi: {
      bios: { release_date: '10/11/2024', vendor: 'Google', version: 'Google' },
      manufacturer: 'Google',
      product: { name: 'Google Compute Engine', serial_number: `GoogleCloud-${certname}` },
    },
    kernel: 'Linux',
    kernelmajversion: '6.1',
    kernelrelease: '6.1.0-26-cloud-amd64',
    kernelversion: '6.1.0',
    virtual: 'gce',
    is_virtual: true,
    facterversion: '4.2.14',
    puppetversion: '7.23.0',
    timezone: 'UTC',
    path: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    role: ['web', 'db', 'cache'][round % 3],
    datacenter: 'dc-1',
    rack: `r${certname.length % 10}`,
  };
}

/** A report with `resources` resources, each with one event. */
export function benchReport(certname: string, round: number, resources: number): Record<string, unknown> {
  const t = (s: number) => new Date(Date.UTC(2026, 10, 23, 10, round, s)).toISOString();
  return {
    certname,
    puppet_version: '7.23.0',
    report_format: 12,
    configuration_version: String(1_700_000_000 + round),
    start_time: t(0),
    end_time: t(5),
    producer_timestamp: t(6),
    producer: 'puppet.example.com',
    corrective_change: false,
    noop: false,
    noop_pending: false,
    transaction_uuid: `6a6e3c48-7e9d-4f35-9d1c-${String(round).padStart(12, '0')}`,
    catalog_uuid: null,
    code_id: null,
    job_id: null,
    cached_catalog_status: 'not_used',
    environment: 'production',
    status: 'changed',
    type: 'agent',
    resources: Array.from({ length: resources }, (_, i) => ({
      skipped: false,
      timestamp: t(1),
      resource_type: 'File',
      resource_title: `/etc/app/conf-${i}`,
      file: '/etc/puppet/code/site.pp',
      line: i + 1,
      containment_path: ['Stage[main]', 'Main', `File[/etc/app/conf-${i}]`],
      corrective_change: false,
      events: [
        {
          status: 'success',
          corrective_change: false,
          timestamp: t(1),
          property: 'content',
          new_value: '{sha256}new',
          old_value: '{sha256}old',
          message: 'content changed',
          name: 'content_changed',
        },
      ],
    })),
    metrics: [
      { category: 'time', name: 'total', value: 0.5 },
      { category: 'resources', name: 'total', value: resources },
      { category: 'events', name: 'success', value: resources },
    ],
    logs: [{ file: null, line: null, level: 'notice', message: 'Applied catalog', source: 'Puppet', tags: ['notice'], time: t(5) }],
  };
}

/** A catalog with `n` File resources contained in Class[Main]. */
export function benchCatalog(certname: string, round: number, n: number): Record<string, unknown> {
  const files = Array.from({ length: n - 2 }, (_, i) => ({
    type: 'File',
    title: `/etc/app/conf-${i}`,
    exported: false,
    tags: ['file', 'class'],
    file: '/etc/puppet/code/site.pp',
    line: i + 1,
    parameters: { ensure: 'file', content: `value ${i} round ${round}\n`, owner: 'root', mode: '0644' },
  }));
  return {
    certname,
    version: String(1_700_000_000 + round),
    environment: 'production',
    transaction_uuid: `6a6e3c48-7e9d-4f35-9d1c-${String(round).padStart(12, '0')}`,
    catalog_uuid: `7a6e3c48-7e9d-4f35-9d1c-${String(round).padStart(12, '0')}`,
    producer_timestamp: new Date(Date.UTC(2026, 10, 23, 10, round)).toISOString(),
    producer: 'puppet.example.com',
    code_id: null,
    resources: [
      { type: 'Stage', title: 'main', exported: false, tags: ['stage', 'main'], parameters: {} },
      { type: 'Class', title: 'Main', exported: false, tags: ['class', 'main'], parameters: {} },
      ...files,
    ],
    edges: [
      { source: { type: 'Stage', title: 'main' }, target: { type: 'Class', title: 'Main' }, relationship: 'contains' },
      ...files.map((f) => ({ source: { type: 'Class', title: 'Main' }, target: { type: 'File', title: f.title }, relationship: 'contains' })),
    ],
  };
}

/** Counts the leaves of a JSON value (for the record: the facts above have about 100). */
export function leaves(v: unknown): number {
  if (v !== null && typeof v === 'object') return Object.values(v).reduce<number>((n, x) => n + leaves(x), 0);
  return 1;
}
