// Which role chips fit a cell: the Users list shows those and "+N" for the rest.

/** Rough width of a 12 px chip: its letters (a system font averages under 7 px at 12 px),
 * its padding and the gap after it. An estimate keeps a list of 100,000 from measuring. */
const chipWidth = (name: string) => Array.from(name).length * 6.6 + 16 + 4;
/** Room kept for the "+N" chip. */
const MORE = 30;

/** How many of `names`, in order, fit `width` pixels, leaving room for "+N" when some do
 * not; at least one (it truncates with an ellipsis). */
export function chipsThatFit(names: string[], width: number): number {
  let used = 0;
  for (let n = 0; n < names.length; n++) {
    used += chipWidth(names[n] ?? "");
    const room = n === names.length - 1 ? width : width - MORE;
    if (used > room) return Math.max(1, n);
  }
  return names.length;
}
