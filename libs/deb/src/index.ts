export { readDebControl, InvalidDebError, maxControlBytes } from './deb-control.ts';
export { controlField } from './control-fields.ts';
