/**
 * The bear's flash budget rule, part of the protocol contract: a bear
 * announces its budget in bytes (hello.flashBudget), and the gateway's warm
 * planner must count space exactly as the firmware's clip store does, or a
 * manifest it believes fits would not. The simulator's flash model uses the
 * same rule. C++: firmware/lib/teddy_core/include/teddy/clip_store.h.
 *
 * - Space is counted in 4096-byte erase blocks; a clip takes
 *   ceil((size + 64) / 4096) blocks (a 64-byte clip header); a budget is
 *   rounded down to whole blocks.
 * - The store's compile-time sizes bound what a bear holds: 48 index slots,
 *   64 blocks per clip, 256 data blocks (1 MiB) in all.
 */

export const BLOCK_BYTES = 4096;
export const CLIP_HEADER_BYTES = 64;

/** Erase blocks a clip of `size` bytes takes in flash. */
export function clipBlocks(size: number): number {
  return Math.ceil((size + CLIP_HEADER_BYTES) / BLOCK_BYTES);
}

/** Whole blocks in a budget of `bytes`. */
export function budgetBlocks(bytes: number): number {
  return Math.floor(bytes / BLOCK_BYTES);
}

/** The clip store's compile-time sizes (TEDDY_MAX_CLIPS, kMaxClipBlocks, TEDDY_MAX_DATA_BLOCKS). */
export interface ClipStoreLimits {
  readonly maxClips: number;
  readonly maxClipBlocks: number;
  readonly maxBudgetBlocks: number;
}

export const FIRMWARE_LIMITS: ClipStoreLimits = { maxClips: 48, maxClipBlocks: 64, maxBudgetBlocks: 256 };
