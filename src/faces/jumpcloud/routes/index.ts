import type { JumpCloudRoutes } from '../index.js';
import { commandAssociationRoutes } from './command-associations.js';
import { commandResultRoutes } from './command-results.js';
import { commandTriggerRoutes } from './command-triggers.js';
import { jumpCloudCommandRoutes } from './commands.js';
import { jumpcloudSystemGroupRoutes } from './systemgroups.js';
import { jumpcloudSystemRoutes } from './systems.js';
import { jumpcloudSystemUserRoutes } from './systemusers.js';
import { jumpcloudV2SystemRoutes } from './v2-systems.js';

/**
 * Every JumpCloud route module, in mount order. A capability adds its module
 * here (one line) and nowhere else.
 */
export const JUMPCLOUD_ROUTES: JumpCloudRoutes[] = [
  jumpCloudCommandRoutes,
  commandAssociationRoutes,
  commandResultRoutes,
  commandTriggerRoutes,
  jumpcloudSystemRoutes,
  jumpcloudSystemGroupRoutes,
  jumpcloudSystemUserRoutes,
  jumpcloudV2SystemRoutes,
];
