import { deviceStatusOf, hasVariableSupport, type AttributeValue, type CustomAttributeRecord } from '../../core/attributes/index.js';
import type { GroupRecord } from '../../core/groups/index.js';
import type { RunState } from '../../core/jobs/index.js';
import type { ScriptRecord } from '../../core/scripts/index.js';
import type { SystemRecord } from '../../core/systems/index.js';

export { hasVariableSupport, VARIABLE_SUPPORT } from '../../core/attributes/index.js';

/** A list answer: SimpleMDM's envelope with `has_more`. */
export function listBody(data: unknown[], hasMore: boolean): unknown {
  return { data, has_more: hasMore };
}

export function scriptView(script: ScriptRecord, id: number): unknown {
  return {
    type: 'script',
    id,
    attributes: {
      name: script.name,
      content: script.content,
      variable_support: hasVariableSupport(script),
      run_on_enroll: script.runOnEnroll,
      created_by: script.createdBy,
      created_at: script.createdAt,
      updated_at: script.updatedAt,
    },
    relationships: {},
  };
}

/** A run's state as a device's status in a script job. */
export function deviceStatus(state: RunState): string {
  return deviceStatusOf(state);
}

export function customAttributeView(a: CustomAttributeRecord): unknown {
  return { type: 'custom_attribute', id: a.name, attributes: { name: a.name, default_value: a.defaultValue } };
}

export function attributeValueView(v: AttributeValue): unknown {
  return { type: 'custom_attribute_value', id: v.name, attributes: { value: v.value, secret: false, default: v.isDefault } };
}

export function deviceView(system: SystemRecord, id: number, groups: Array<{ group: GroupRecord; id: number }>, values?: AttributeValue[]): unknown {
  const serial = system.facts.serial_number;
  const first = groups[0];
  return {
    type: 'device',
    id,
    attributes: {
      name: system.displayName,
      device_name: system.hostname,
      unique_identifier: system.id,
      serial_number: typeof serial === 'string' && serial !== '' ? serial : system.id,
      status: 'enrolled',
      connected: system.connected,
      last_seen_at: system.lastContact,
      enrolled_at: system.createdAt,
      os_version: [system.os, system.osRelease].filter(Boolean).join(' '),
      model_name: system.arch,
      ip_addresses: system.ipAddresses,
    },
    relationships: {
      device_group: { data: first ? { type: 'device_group', id: first.id } : null },
      groups: { data: groups.map((g) => ({ type: 'device_group', id: g.id })) },
      ...(values ? { custom_attribute_values: { data: values.map(attributeValueView) } } : {}),
    },
  };
}

export function groupView(type: 'device_group' | 'assignment_group', group: GroupRecord, id: number, devices: number[]): unknown {
  return {
    type,
    id,
    attributes: {
      name: group.name,
      description: group.description,
      created_at: group.createdAt,
      ...(type === 'assignment_group' ? { auto_deploy: false, type: 'standard' } : {}),
    },
    relationships: { devices: { data: devices.map((d) => ({ type: 'device', id: d })) } },
  };
}
