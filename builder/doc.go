// Package builder runs a Dockerfile's steps against the layer cache and turns them into an image.
//
// Build resolves the stages the target needs (FROM, COPY --from, global ARGs
// expanded) and runs each stage's steps in order. Every step goes through the
// same loop: expand the instruction with the variables in scope; plan it (its
// config change, its filesystem change, and the inputs of its key: the parent
// key, the platform, the expanded instruction, and for COPY/ADD the files it
// reads, for RUN the environment, shell, user, working directory and network);
// key it (cache.KeyInput.Key); look the key up in the local cache, then the
// remote one; on a hit reuse the entry's layer, on a miss run the change in a
// rootfs the snapshotter assembles from the stage's layers, diff it into a
// layer, store the layer and record the entry. Either way the step's record
// (what went into its key) joins the build record, which the next build of
// the same Dockerfile and target compares with to give each miss a Reason.
//
// The cache modes differ in what a key chains on. In cascade mode (Docker's
// rule) the parent of a step is the previous step's key, so one miss changes
// every later key and the later steps miss with a "parent" reason. In content
// mode the parent is the content the previous steps left (their layers'
// diffIDs, Env, WorkingDir, User, Shell), so a rebuilt step that produced the
// same layer lets the next steps hit again, with a "content" reason.
//
// A dry run (Settings.DryRun, "minibuild plan") keys every step the same way
// and predicts hit or miss without running anything or writing to the store;
// a key that needs a result only a build has is reported unknown.
package builder
