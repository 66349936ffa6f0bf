/**
 * The value of the field `name` (a literal such as `Package`) of a control file, as
 * `dpkg-deb --field FILE NAME` prints a one-line field: field names are
 * case-insensitive (deb-control(5)), the value is trimmed; '' when the field is
 * absent. Continuation lines start with a space, so they never match a field name.
 */
export function controlField(control: string, name: string): string {
  const match = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(control);
  return match?.[1]?.trim() ?? '';
}
