"""Alternative solution: BatchNorm kept in eval mode by forward pre-hooks; groups by parameter name."""

from torch import nn


def _force_eval(module, inputs):
    module.training = False


def prepare_for_transfer(model, num_classes, head_attr="fc", train_bn=False):
    in_features = getattr(model, head_attr).in_features
    setattr(model, head_attr, nn.Linear(in_features, num_classes))
    for name, p in model.named_parameters():
        p.requires_grad = name.startswith(head_attr + ".")
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            if train_bn:
                m.weight.requires_grad = True
                m.bias.requires_grad = True
            else:
                m.eval()
                m.register_forward_pre_hook(_force_eval)
    return model


def trainable_parameter_names(model):
    out = []
    for name, p in model.named_parameters():
        if p.requires_grad:
            out.append(name)
    return out


def param_groups(model, head_lr, backbone_lr):
    head_name = [name for name, _ in model.named_children()][-1]
    head, rest = [], []
    for name, p in model.named_parameters():
        if name.split(".")[0] == head_name:
            head.append(p)
        elif p.requires_grad:
            rest.append(p)
    return [dict(params=head, lr=head_lr), dict(params=rest, lr=backbone_lr)]
