# An image on that base: the base is its parent image, and its layers are
# the base's layers with one more on top.
FROM lesson7:base
COPY app.txt /app/app.txt
