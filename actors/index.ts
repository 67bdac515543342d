/** Every actor of a run, in the order they are hosted and folded. */
import type { ActorDef } from './actor.ts';
import { bufferActor } from './buffer/bufferActor.ts';
import { estimatorActor } from './estimator/estimatorActor.ts';
import { learnerActor } from './learner/learnerActor.ts';
import { promptsActor } from './prompts.ts';
import { samplerActor } from './sampler/samplerActor.ts';
import { sessionActor } from './session.ts';

export const ACTORS: ReadonlyArray<ActorDef<any, any>> = [sessionActor, promptsActor, bufferActor, estimatorActor, samplerActor, learnerActor];
