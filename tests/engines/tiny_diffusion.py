"""Tiny random inpainting pipelines (SD 1.5, SDXL, FLUX Fill), built and saved by the tests.

Real diffusers classes with random weights, small enough to run in well under a
second on a CPU: for SD and SDXL a UNet with 9 input channels (latents, mask,
masked-image latents, as the inpainting checkpoints have), for FLUX Fill a one-layer
transformer; small VAEs, two-layer text encoders, and tokenizers whose vocabulary
(the letters) is written here. They paint noise, through exactly the code a real
model runs through, loaded from a local folder as a user's weights would be.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

LETTERS = list(string.ascii_lowercase)


def _clip_tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    tokens = ["<|startoftext|>", "<|endoftext|>", *LETTERS, *[f"{c}</w>" for c in LETTERS]]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(tokens)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=16
    )


def _clip_config(hidden: int) -> Any:
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=2 + 2 * len(LETTERS),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_attention_heads=2,
        num_hidden_layers=2,
        max_position_embeddings=16,
        projection_dim=hidden,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
    )


def _t5_tokenizer() -> Any:
    """A unigram tokenizer over single letters, spelled the way T5's sentencepiece is."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import T5TokenizerFast

    pieces = ["<pad>", "</s>", "<unk>", "\u2581", *LETTERS, *[f"\u2581{c}" for c in LETTERS]]
    unigram = Tokenizer(
        models.Unigram([(p, 0.0 if i < 3 else -1.0) for i, p in enumerate(pieces)], unk_id=2)
    )
    unigram.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True),
        ]
    )
    return T5TokenizerFast(
        tokenizer_object=unigram,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        extra_ids=0,
        model_max_length=32,
    )


def _small_vae(latent_channels: int = 4) -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        block_out_channels=(16, 32),
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=latent_channels,
        norm_num_groups=8,
        sample_size=32,
    )


def build_tiny_sd_inpaint(folder: Path) -> Path:
    """A random ``StableDiffusionInpaintPipeline`` saved to ``folder``."""
    import torch
    from diffusers import DDIMScheduler, StableDiffusionInpaintPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

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
    pipeline = StableDiffusionInpaintPipeline(
        vae=_small_vae(),
        text_encoder=CLIPTextModel(_clip_config(16)),
        tokenizer=_clip_tokenizer(folder.parent / f"{folder.name}-vocabulary"),
        unet=unet,
        scheduler=DDIMScheduler(steps_offset=1),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(folder))
    return folder


def build_tiny_sdxl_inpaint(folder: Path) -> Path:
    """A random ``StableDiffusionXLInpaintPipeline`` (two text encoders, time ids)."""
    import torch
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

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
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        projection_class_embeddings_input_dim=5 * 8 + 16,  # 5 time ids (with aesthetics)
        cross_attention_dim=32,  # both text encoders' hidden states, side by side
    )
    tokenizer = _clip_tokenizer(folder.parent / f"{folder.name}-vocabulary")
    pipeline = StableDiffusionXLInpaintPipeline(
        vae=_small_vae(),
        text_encoder=CLIPTextModel(_clip_config(16)),
        text_encoder_2=CLIPTextModelWithProjection(_clip_config(16)),
        tokenizer=tokenizer,
        tokenizer_2=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(steps_offset=1, timestep_spacing="leading"),
        requires_aesthetics_score=True,
    )
    pipeline.save_pretrained(str(folder))
    return folder


def build_tiny_flux_fill(folder: Path) -> Path:
    """A random ``FluxFillPipeline`` (CLIP and T5 text encoders, a one-layer transformer)."""
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxFillPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = FluxTransformer2DModel(
        patch_size=1,
        in_channels=20,  # packed latents 8 + packed masked-image latents 8 + packed mask 4
        out_channels=8,
        num_layers=1,
        num_single_layers=1,
        attention_head_dim=16,
        num_attention_heads=2,
        joint_attention_dim=32,
        pooled_projection_dim=32,
        axes_dims_rope=[4, 4, 8],
    )
    vae = AutoencoderKL(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(4,),
        layers_per_block=1,
        latent_channels=2,
        norm_num_groups=1,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    t5 = T5EncoderModel(
        T5Config(
            vocab_size=3 + 1 + 2 * len(LETTERS),
            d_model=32,
            d_kv=8,
            d_ff=37,
            num_layers=2,
            num_heads=4,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
    pipeline = FluxFillPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=CLIPTextModel(_clip_config(32)),
        text_encoder_2=t5,
        tokenizer=_clip_tokenizer(folder.parent / f"{folder.name}-vocabulary"),
        tokenizer_2=_t5_tokenizer(),
        transformer=transformer,
        vae=vae,
    )
    pipeline.save_pretrained(str(folder))
    return folder
