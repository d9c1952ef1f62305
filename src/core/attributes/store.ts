/** A custom attribute: a name every system may hold a value for, with the value a system without one reads. */
export interface CustomAttributeRecord {
  organizationId: string;
  name: string;
  defaultValue: string;
  createdAt: string;
}

/** The target types a script job can name. */
export const TARGET_TYPES = ['device', 'device_group', 'assignment_group'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** What a script job launched by name asked for, beyond the job itself. */
export interface JobLinkRecord {
  jobId: string;
  organizationId: string;
  jobName: string;
  targetTypes: TargetType[];
  groupIds: string[];
  variableSupport: boolean;
  /** Each system's output is stored in this custom attribute when its run succeeds. */
  customAttribute: string | null;
  /** Only the first match of this pattern (RE2) is stored. */
  customAttributeRegex: string | null;
}

/** A job's status as script job lists filter it: running, ended with every run succeeded, or ended otherwise. */
export const JOB_STATUSES = ['pending', 'completed', 'failed'] as const;
export type JobStatusFilter = (typeof JOB_STATUSES)[number];

/** Which jobs a search returns; every condition given must hold. */
export interface JobFilter {
  scriptIds?: string[];
  /** Exact name of the script the job was launched from. */
  scriptName?: string;
  systemIds?: string[];
  groupIds?: string[];
  targetTypes?: TargetType[];
  status?: JobStatusFilter;
  createdAfter?: string;
  createdBefore?: string;
  updatedAfter?: string;
  updatedBefore?: string;
}

/** A page by integer id: ascending from after `after`, or the last page before `before`. */
export interface NumberPage {
  limit: number;
  after?: number;
  before?: number;
}

/** Storage of custom attribute definitions and script job links. */
export interface AttributeStore {
  listAttributes(organizationId: string): Promise<CustomAttributeRecord[]>;
  getAttribute(organizationId: string, name: string): Promise<CustomAttributeRecord | undefined>;
  /** False when the organization already has an attribute of that name. */
  insertAttribute(attribute: CustomAttributeRecord): Promise<boolean>;
  /** False when there is no such attribute. */
  updateAttribute(organizationId: string, name: string, defaultValue: string): Promise<boolean>;
  deleteAttribute(organizationId: string, name: string): Promise<boolean>;
  insertJobLink(link: JobLinkRecord): Promise<void>;
  getJobLinks(organizationId: string, jobIds: readonly string[]): Promise<Map<string, JobLinkRecord>>;
  /**
   * Jobs launched from saved scripts that match the filter, by their integer
   * ids (which must already be given), with whether more lie past the page.
   */
  searchJobs(organizationId: string, filter: JobFilter, page: NumberPage): Promise<{ jobIds: string[]; hasMore: boolean }>;
  /** The stdout of each run of a job, keyed by run id, in one read. */
  jobOutputs(organizationId: string, jobId: string): Promise<Map<string, string>>;
}
