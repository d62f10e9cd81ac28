"""Character poses: the rig, the animation library and its text form, pose batches, OpenPose drawing, prompts."""
