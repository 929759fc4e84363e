/**
 * Not a model: a module beside the hostile fixtures, outside every model
 * directory, which import_relative and import_static try to import.
 *
 * @module
 */

/** What an import that worked would get. */
export const stolen = true;
