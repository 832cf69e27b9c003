// Bundled at build time: ncc inlines (and tree-shakes) the JSON, so an action needs no package.json at run time.
import pkg from '../package.json' with { type: 'json' };

export const PROJECT_NAME: string = pkg.name;
export const PROJECT_VERSION: string = pkg.version;
/** `nixos-aws/<version>`: how this project names itself to AWS (user agent) and in logs. */
export const PROJECT_ID = `${PROJECT_NAME}/${PROJECT_VERSION}`;
