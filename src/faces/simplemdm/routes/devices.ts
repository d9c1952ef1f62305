import type { FastifyInstance } from 'fastify';
import type { Actor, Core } from '../../../core/index.js';
import { invalid } from '../../../core/errors.js';
import type { GroupRecord } from '../../../core/groups/index.js';
import type { SystemRecord } from '../../../core/systems/index.js';
import { route } from '../route.js';
import { numberedList, pageOf } from '../paging.js';
import { resolveOne } from '../refs.js';
import { attributeValueView, customAttributeView, deviceView, groupView } from '../views.js';

const idOf = (params: unknown) => (params as { id: string }).id;
const nameOf = (params: unknown) => (params as { name: string }).name;

/** A bulk change's `data`: an array of `{name, value}`. */
function valuesOf(data: unknown): Record<string, unknown> {
  if (!Array.isArray(data) || data.length === 0) throw invalid('data', 'must be a non-empty array of {"name", "value"}');
  const out: Record<string, unknown> = {};
  data.forEach((item: unknown, i) => {
    const { name, value } = (item ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== 'string') throw invalid(`data[${i}].name`, 'must be the name of a custom attribute');
    out[name] = value;
  });
  return out;
}

/** A device as SimpleMDM shows it: its groups by number, and its custom attribute values when asked. */
async function device(core: Core, actor: Actor, system: SystemRecord, id: number, withValues: boolean): Promise<unknown> {
  const groups = await core.groups.ofSystem(actor, system.id);
  const numbers = await core.numbers.numbers(
    'group',
    actor.organizationId,
    groups.map((g) => g.id),
  );
  const values = withValues ? await core.attributes.values(actor, system.id) : undefined;
  return deviceView(
    system,
    id,
    groups.map((group) => ({ group, id: numbers.get(group.id)! })),
    values,
  );
}

async function group(core: Core, actor: Actor, type: 'device_group' | 'assignment_group', g: GroupRecord, id: number): Promise<unknown> {
  const members = await core.groups.members(actor, g.id);
  const numbers = await core.numbers.numbers('system', actor.organizationId, members);
  return groupView(
    type,
    g,
    id,
    members.map((m) => numbers.get(m)!),
  );
}

function groupRoutes(app: FastifyInstance, core: Core, type: 'device_group' | 'assignment_group'): void {
  route(app, 'GET', `/${type}s`, async ({ actor, p }) => {
    const page = pageOf(p);
    return numberedList(core, actor, 'group', page, await core.groups.list(actor), (g, id) => group(core, actor, type, g, id));
  });
  route(app, 'GET', `/${type}s/:id`, async ({ req, actor }) => {
    const g = await core.groups.get(actor, await resolveOne(core, actor, 'group', idOf(req.params)));
    return { data: await group(core, actor, type, g, await core.numbers.numberOf('group', actor.organizationId, g.id)) };
  });
}

/** `/api/v1/devices`, device and assignment groups, and custom attributes with each device's values. */
export function deviceRoutes(app: FastifyInstance, core: Core): void {
  route(app, 'GET', '/devices', async ({ actor, p }) => {
    const page = pageOf(p);
    const withValues = p.bool('include_secret_custom_attributes', 'include_custom_attributes') ?? false;
    return numberedList(core, actor, 'system', page, await core.systems.list(actor), (s, id) => device(core, actor, s, id, withValues));
  });
  route(app, 'GET', '/devices/:id', async ({ req, actor }) => {
    const system = await core.systems.get(actor, await resolveOne(core, actor, 'system', idOf(req.params)));
    // muster's custom attributes have no secret ones: include_secret_custom_attributes changes nothing.
    return { data: await device(core, actor, system, await core.numbers.numberOf('system', actor.organizationId, system.id), true) };
  });
  route(app, 'GET', '/devices/:id/custom_attribute_values', async ({ req, actor }) => {
    const values = await core.attributes.values(actor, await resolveOne(core, actor, 'system', idOf(req.params)));
    return { data: values.map(attributeValueView) };
  });
  route(app, 'PUT', '/devices/:id/custom_attribute_values/:name', async ({ req, actor, p }) => {
    const systemId = await resolveOne(core, actor, 'system', idOf(req.params));
    const [value] = await core.attributes.setValues(actor, systemId, { [nameOf(req.params)]: p.text('value') ?? '' });
    return { data: attributeValueView(value!) };
  });
  // Several at once: `{"data": [{"name": …, "value": …}, …]}`, as SimpleMDM takes them.
  route(app, 'PUT', '/devices/:id/custom_attribute_values', async ({ req, actor }) => {
    const systemId = await resolveOne(core, actor, 'system', idOf(req.params));
    const values = await core.attributes.setValues(actor, systemId, valuesOf((req.body as { data?: unknown } | undefined)?.data));
    return { data: values.map(attributeValueView) };
  });
  groupRoutes(app, core, 'device_group');
  groupRoutes(app, core, 'assignment_group');

  route(app, 'GET', '/custom_attributes', async ({ actor }) => ({ data: (await core.attributes.list(actor)).map(customAttributeView) }));
  route(
    app,
    'POST',
    '/custom_attributes',
    async ({ actor, p }) => ({
      data: customAttributeView(await core.attributes.create(actor, { name: p.text('name'), default_value: p.text('default_value') })),
    }),
    201,
  );
  route(app, 'GET', '/custom_attributes/:name', async ({ req, actor }) => ({
    data: customAttributeView(await core.attributes.get(actor, nameOf(req.params))),
  }));
  for (const method of ['PATCH', 'PUT'] as const) {
    route(app, method, '/custom_attributes/:name', async ({ req, actor, p }) => ({
      data: customAttributeView(await core.attributes.update(actor, nameOf(req.params), { default_value: p.text('default_value') })),
    }));
  }
  route(app, 'DELETE', '/custom_attributes/:name', async ({ req, actor }) => {
    await core.attributes.remove(actor, nameOf(req.params));
    return undefined;
  });
}
