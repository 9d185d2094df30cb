"""A tiny random Stable Diffusion inpainting pipeline, built and saved by the tests.

Real diffusers classes with random weights: a UNet with 9 input channels (latents,
mask, masked-image latents, as SD inpainting models have), a small VAE, a two-layer
CLIP text model and a CLIP tokenizer whose vocabulary (the letters) is written here.
It paints noise, in well under a second on a CPU, through exactly the code a real
model runs through.
"""

from __future__ import annotations

import json
import string
from pathlib import Path


def build_tiny_inpaint_pipeline(folder: Path) -> Path:
    """Save a random ``StableDiffusionInpaintPipeline`` to ``folder`` (a diffusers folder)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        DDIMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocabulary = folder.parent / "vocabulary"
    vocabulary.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>"]
    tokens += list(string.ascii_lowercase) + [f"{c}</w>" for c in string.ascii_lowercase]
    (vocabulary / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (vocabulary / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(
        str(vocabulary / "vocab.json"), str(vocabulary / "merges.txt"), model_max_length=16
    )

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=8,
        in_channels=9,
        out_channels=4,
        block_out_channels=(16, 32),
        layers_per_block=1,
        norm_num_groups=8,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=8,
        sample_size=32,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokens),
            hidden_size=16,
            intermediate_size=32,
            num_attention_heads=2,
            num_hidden_layers=2,
            max_position_embeddings=16,
            projection_dim=16,
            bos_token_id=0,
            eos_token_id=1,
            pad_token_id=1,
        )
    )
    pipeline = StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=DDIMScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(folder))
    return folder
