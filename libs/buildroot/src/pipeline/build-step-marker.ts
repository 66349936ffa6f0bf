/**
 * The first line the package's own build step prints (toolbox/build.sh, just before it runs
 * autobuild): where "the farm's start-up" ends and the package's build begins. The worker
 * times a build's start from its claim to this line; the warm-builds benchmark does the same
 * from runBuild().
 */
export const buildStepMarker = '[aoinb] running autobuild for';
