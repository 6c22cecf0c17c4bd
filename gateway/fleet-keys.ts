/**
 * Every Redis name the gateway's fleet state uses, in one place. Fleet-wide
 * state (the device registry, the clip catalog and its popularity, the clip
 * log, the live gateways) shares the `{fleet}` hash tag, so a script may
 * touch several of them on Redis Cluster (one slot); each bear's state shares
 * its own tag, `{deviceId}` (device ids are [A-Za-z0-9_-], never braces), so
 * bears spread over the cluster. Names hold device ids and clip ids (hashes),
 * never a child's words.
 */
export interface FleetKeys {
  /** hash: device id -> JSON DeviceRecord (scrypt hash, createdAt). Durable: must never be evicted. */
  readonly devices: string;
  /** hash: admin token id -> JSON {role, sha256 of the token, createdAt} (./admin-tokens.ts). Durable. */
  readonly adminTokens: string;
  /** hash: clip id (hex) -> JSON clip metadata. */
  readonly clips: string;
  /** sorted set: clip id (hex) -> answers that named it, fleet-wide. */
  readonly popularity: string;
  /** stream of newly catalogued clips (id, metadata), capped; every gateway reads it to stay coherent. */
  readonly clipLog: string;
  /** hash: gateway instance id -> JSON presence (pid, URLs, bears, last beat). */
  readonly gateways: string;
  /** pub/sub channel every gateway listens on. */
  readonly broadcast: string;
  /** pub/sub channel of one gateway instance. */
  instance(instanceId: string): string;
  /** hash: one bear's warm sequence, plan signature and the instance it is connected to. */
  bear(deviceId: string): string;
  /** hash: clip id (hex) -> answers this bear got with it. */
  history(deviceId: string): string;
  /**
   * The operations time series (gateway/ops/fleet-series.ts), under their own `{ops}` tag (one
   * slot, apart from the fleet state's): the processes by last write, each one's fine and coarse
   * sample lists and its status (alerts, advice, limits).
   */
  readonly ops: {
    readonly processes: string;
    fine(processId: string): string;
    coarse(processId: string): string;
    status(processId: string): string;
  };
}

export function fleetKeys(prefix: string): FleetKeys {
  const fleet = `${prefix}{fleet}:`;
  return {
    devices: `${fleet}devices`,
    adminTokens: `${fleet}admin-tokens`,
    clips: `${fleet}clips`,
    popularity: `${fleet}popularity`,
    clipLog: `${fleet}clip-log`,
    gateways: `${fleet}gateways`,
    broadcast: `${fleet}control`,
    instance: (instanceId) => `${fleet}control:${instanceId}`,
    bear: (deviceId) => `${prefix}bear:{${deviceId}}`,
    history: (deviceId) => `${prefix}bear:{${deviceId}}:history`,
    ops: {
      processes: `${prefix}{ops}:v1:processes`,
      fine: (id) => `${prefix}{ops}:v1:fine:${id}`,
      coarse: (id) => `${prefix}{ops}:v1:coarse:${id}`,
      status: (id) => `${prefix}{ops}:v1:status:${id}`,
    },
  };
}
