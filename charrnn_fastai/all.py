"The public API in one import: `from charrnn_fastai.all import *`."
from .core import *
from .vocab import *
from .corpora import *
from .data import *
from .memmap import *
from .models import *
from .learner import *
from .generate import *
from .learn_generate import *
from .viz import *
from .neurons import *
from .gradflow import *
from .memory import *
from .export import *
from .distributed import *
from .sampler import *
from .serve import *
