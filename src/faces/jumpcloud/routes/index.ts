import type { JumpCloudRoutes } from '../index.js';

/**
 * Every JumpCloud route module, in mount order. A capability adds its module
 * here (one line) and nowhere else.
 */
export const JUMPCLOUD_ROUTES: JumpCloudRoutes[] = [];
